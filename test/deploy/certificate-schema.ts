// Checks a cert-manager Certificate against cert-manager's own CRD schema (certificates.cert-manager.io/v1, kept in
// test/fixtures/cert-manager): types, enums and required fields, and fields the CRD does not define, which the API
// server would silently prune (a misspelt `dnsName` would leave the certificate without its names).

import { readFileSync } from "node:fs";
import { Ajv, type SchemaObject } from "ajv";

const CRD_SCHEMA = JSON.parse(
  readFileSync(new URL("../fixtures/cert-manager/certificate-v1.schema.json", import.meta.url), "utf8"),
) as SchemaObject;

/** The schema with unknown fields refused wherever the CRD lists its fields and does not keep unknown ones. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== "object") return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    result[key] =
      key === "properties"
        ? Object.fromEntries(Object.entries(value as object).map(([name, field]) => [name, closed(field)]))
        : closed(value);
  }
  const keepsUnknown = "x-kubernetes-preserve-unknown-fields" in result;
  if ("properties" in result && !("additionalProperties" in result) && !keepsUnknown) {
    result.additionalProperties = false;
  }
  return result;
}

// OpenAPI's x-kubernetes-* keywords are not JSON Schema's (strict: false ignores them); formats such as int32 are
// the API server's business, not this check's.
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(
  closed(CRD_SCHEMA) as SchemaObject,
);

/** The problems of one Certificate: empty when cert-manager's CRD accepts its shape. */
export function certificateSchemaProblems(object: unknown): string[] {
  const { apiVersion, kind } = (object ?? {}) as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion !== "cert-manager.io/v1" || kind !== "Certificate") {
    return [`not a cert-manager.io/v1 Certificate: ${String(apiVersion)}/${String(kind)}`];
  }
  if (validate(object)) return [];
  return (validate.errors ?? []).map((error) => {
    const extra = "additionalProperty" in error.params ? ` '${String(error.params.additionalProperty)}'` : "";
    return `${error.instancePath || "/"}: ${error.message ?? "invalid"}${extra}`;
  });
}
