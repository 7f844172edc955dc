// JSON schemas for the bodies of the management API's PUTs, validated by Fastify (with Ajv) before a
// handler runs. Each (sub)schema carries, as `armError`, the ARM error its value's failure answers with,
// in the texts ARM clients already know. Rules a schema cannot express (names, GUIDs, existence,
// conflicts) stay with the directory.

import type { SchemaObject } from "ajv";
import { RESOURCE_INPUT_ERRORS } from "../identity/directory/resource-input.ts";

/** The ARM error a failing (sub)schema answers with: always a 400. */
export interface ArmBodyError {
  code: string;
  message: string;
}

/** The members every tracked resource may send; the directory ignores those it does not use. */
export interface ArmResourceBody {
  location?: string | null;
  tags?: Record<string, string> | null;
  properties?: Record<string, unknown> | null;
  sku?: Record<string, unknown> | null;
}

/** ARM's control-plane secret: a new version's value and metadata. */
export interface ArmSecretBody {
  properties: { value: string; contentType?: string; attributes?: unknown };
  tags?: Record<string, string> | null;
}

const invalidContent = (message: string): ArmBodyError => ({ code: "InvalidRequestContent", message });

const LOCATION = {
  type: "string",
  nullable: true,
  armError: invalidContent(RESOURCE_INPUT_ERRORS.location),
};

const TAGS = {
  type: "object",
  nullable: true,
  armError: invalidContent(RESOURCE_INPUT_ERRORS.tags),
  additionalProperties: { type: "string", armError: invalidContent(RESOURCE_INPUT_ERRORS.tagValues) },
};

const PROPERTIES = {
  type: "object",
  nullable: true,
  armError: invalidContent(RESOURCE_INPUT_ERRORS.properties),
};

/** A body that is absent or `null` means "no changes"; anything else must be an object. */
function resourceBody(members: Record<string, SchemaObject>): SchemaObject {
  return {
    type: "object",
    nullable: true,
    armError: invalidContent("The request content must be a JSON object."),
    properties: members,
  };
}

export const RESOURCE_GROUP_BODY = resourceBody({ location: LOCATION, tags: TAGS });
export const IDENTITY_BODY = resourceBody({ location: LOCATION, tags: TAGS });
export const VAULT_BODY = resourceBody({ location: LOCATION, tags: TAGS, properties: PROPERTIES });
/** App Configuration's store: the SKU beside the tracked resource's members (its name is checked by the directory). */
export const CONFIGURATION_STORE_BODY = resourceBody({
  location: LOCATION,
  tags: TAGS,
  properties: PROPERTIES,
  sku: {
    type: "object",
    nullable: true,
    armError: invalidContent('\'sku\' must be an object, e.g. {"name": "standard"}.'),
  },
});
export const FEDERATED_CREDENTIAL_BODY = resourceBody({ properties: PROPERTIES });
export const ROLE_ASSIGNMENT_BODY = resourceBody({ properties: PROPERTIES });

const ALWAYS_ON: ArmBodyError = {
  code: "BadRequest",
  message:
    "wikit's clusters always have the OIDC issuer and workload identity: 'oidcIssuerProfile.enabled' and 'securityProfile.workloadIdentity.enabled' may only be true.",
};
const enabledOnly = { type: "boolean", enum: [true], armError: ALWAYS_ON };

/** AKS's managed cluster, as far as wikit's clusters have it: the rest of what AKS takes is kept as given. */
export const MANAGED_CLUSTER_BODY = resourceBody({
  location: LOCATION,
  tags: TAGS,
  properties: {
    ...PROPERTIES,
    properties: {
      kubernetesVersion: {
        type: "string",
        armError: invalidContent("'properties.kubernetesVersion' must be a string."),
      },
      oidcIssuerProfile: {
        type: "object",
        armError: ALWAYS_ON,
        properties: { enabled: enabledOnly },
      },
      securityProfile: {
        type: "object",
        armError: invalidContent("'properties.securityProfile' must be an object."),
        properties: {
          workloadIdentity: { type: "object", armError: ALWAYS_ON, properties: { enabled: enabledOnly } },
        },
      },
    },
  },
});

const SECRET_NEEDS_VALUE: ArmBodyError = {
  code: "BadRequest",
  message: "The secret needs 'properties.value', a string.",
};
const SECRET_TAGS: ArmBodyError = { code: "BadRequest", message: RESOURCE_INPUT_ERRORS.tags };

export const ARM_SECRET_BODY: SchemaObject = {
  type: "object",
  required: ["properties"],
  armError: SECRET_NEEDS_VALUE,
  properties: {
    properties: {
      type: "object",
      required: ["value"],
      armError: SECRET_NEEDS_VALUE,
      properties: {
        value: { type: "string", armError: SECRET_NEEDS_VALUE },
        contentType: {
          type: "string",
          armError: { code: "BadRequest", message: "'properties.contentType' must be a string." },
        },
      },
    },
    tags: {
      type: "object",
      nullable: true,
      armError: SECRET_TAGS,
      additionalProperties: { type: "string", armError: SECRET_TAGS },
    },
  },
};
