// The directory's records as the store holds them, and the mappers that read them back. Each mapper checks
// the fields it reads, so a damaged row fails loudly here instead of surfacing as `undefined` in a token.

import type { ArmResource } from "../../store/store.ts";
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

/** An identity that can sign in with federated credentials, as the token service needs it. */
export interface FederatedPrincipal {
  clientId: string;
  principalId: string;
  tenantId: string;
  displayName: string;
  /** ARM ID of the user-assigned identity (the `xms_mirid` claim). */
  resourceId: string;
  credentials: MatchableCredential[];
}

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
export function toFederatedPrincipal(identity: ArmResource, credentials: ArmResource[]): FederatedPrincipal {
  return {
    clientId: stringField(identity, "clientId"),
    principalId: stringField(identity, "principalId"),
    tenantId: stringField(identity, "tenantId"),
    displayName: identity.name,
    resourceId: identity.id,
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
