// The directory's records as the store holds them, and the mappers that read them back. Each mapper checks
// the fields it reads, so a damaged row fails loudly here instead of surfacing as `undefined` in a token.

import type { ArmResource } from "../../store/store.ts";
import type { CertificateCredential } from "../exchange/certificate-assertion.ts";
import { parseClaimsExpression } from "../exchange/claims-expression.ts";
import type { FederatedCredential as MatchableCredential } from "../exchange/fic-match.ts";
import type {
  ClaimsMatchingExpression,
  FederatedCredentialProperties,
} from "./federated-credential-rules.ts";

export interface Tenant {
  tenantId: string;
  displayName: string;
  defaultDomain: string;
}

export interface Subscription {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: string;
}

export interface FederatedCredential {
  id: string;
  name: string;
  properties: FederatedCredentialProperties;
}

/**
 * Who signs in with federated credentials — a user-assigned identity, or an app registration through its service
 * principal in the tenant asked — as the token service needs it.
 */
export interface FederatedPrincipal {
  /** The client ID, or the application's app ID. */
  clientId: string;
  /** Object ID of the service principal (`oid`, and what role assignments name). */
  principalId: string;
  tenantId: string;
  displayName: string;
  /** Store ID of what holds the credentials: the identity's ARM ID or the application's row. */
  credentialOwnerId: string;
  /** ARM ID of a user-assigned identity (the `xms_mirid` claim); none for app registrations. */
  managedIdentityResourceId?: string;
  credentials: MatchableCredential[];
  /** An app registration's certificates, for assertions it signs itself. */
  certificates?: CertificateCredential[];
}

/** Why a client ID cannot sign in to a tenant, when it cannot. */
export type PrincipalRefusal = "unknownClient" | "noServicePrincipal" | "disabled";

/** The outcome of looking up the principal a token request names. */
export type PrincipalSearch =
  | { principal: FederatedPrincipal }
  | { refusal: PrincipalRefusal; displayName?: string };

export interface RoleAssignment {
  id: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

function stringField(resource: ArmResource, field: string): string {
  const value = resource.properties[field];
  if (typeof value !== "string") {
    throw new Error(`the stored resource '${resource.id}' has no string property '${field}'`);
  }
  return value;
}

export function toTenant(resource: ArmResource): Tenant {
  return {
    tenantId: stringField(resource, "tenantId"),
    displayName: stringField(resource, "displayName"),
    defaultDomain: stringField(resource, "defaultDomain"),
  };
}

export function toSubscription(resource: ArmResource): Subscription {
  return {
    subscriptionId: stringField(resource, "subscriptionId"),
    tenantId: stringField(resource, "tenantId"),
    displayName: stringField(resource, "displayName"),
    state: stringField(resource, "state"),
  };
}

export function toFederatedCredential(resource: ArmResource): FederatedCredential {
  const audiences = resource.properties.audiences;
  if (!Array.isArray(audiences) || !audiences.every((audience) => typeof audience === "string")) {
    throw new Error(`the stored resource '${resource.id}' has no string array property 'audiences'`);
  }
  const { description, claimsMatchingExpression } = resource.properties;
  const expression = expressionField(resource.id, claimsMatchingExpression);
  return {
    id: resource.id,
    name: resource.name,
    properties: {
      issuer: stringField(resource, "issuer"),
      ...(expression === undefined
        ? { subject: stringField(resource, "subject") }
        : { claimsMatchingExpression: expression }),
      audiences,
      ...(typeof description === "string" ? { description } : {}),
    },
  };
}

function expressionField(id: string, value: unknown): ClaimsMatchingExpression | undefined {
  if (value === undefined) return undefined;
  const { value: text, languageVersion } = (
    typeof value === "object" && value !== null ? value : {}
  ) as Record<string, unknown>;
  if (typeof text !== "string" || typeof languageVersion !== "number") {
    throw new Error(`the stored resource '${id}' has a malformed 'claimsMatchingExpression'`);
  }
  return { value: text, languageVersion };
}

/** A user-assigned identity with its federated credentials, as the token service matches them. */
export function toManagedIdentityPrincipal(
  identity: ArmResource,
  credentials: ArmResource[],
): FederatedPrincipal {
  return toFederatedPrincipal(
    {
      clientId: stringField(identity, "clientId"),
      principalId: stringField(identity, "principalId"),
      tenantId: stringField(identity, "tenantId"),
      displayName: identity.name,
      credentialOwnerId: identity.id,
      managedIdentityResourceId: identity.id,
    },
    credentials,
  );
}

/** A principal with the federated credentials stored beneath its owner, as the token service matches them. */
export function toFederatedPrincipal(
  principal: Omit<FederatedPrincipal, "credentials" | "certificates">,
  credentials: ArmResource[],
): FederatedPrincipal {
  return {
    ...principal,
    credentials: credentials.map(toFederatedCredential).map(
      ({ name, properties }): MatchableCredential => ({
        name,
        issuer: properties.issuer,
        ...(properties.claimsMatchingExpression === undefined
          ? { subject: properties.subject }
          : { claimsMatchingExpression: parseClaimsExpression(properties.claimsMatchingExpression.value) }),
        audiences: properties.audiences,
      }),
    ),
  };
}

export function toRoleAssignment(resource: ArmResource): RoleAssignment {
  return {
    id: resource.id,
    scope: stringField(resource, "scope"),
    roleDefinitionId: stringField(resource, "roleDefinitionId"),
    principalId: stringField(resource, "principalId"),
  };
}
