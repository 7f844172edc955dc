// Decoded JSON as the parts receive it from the wire: the value types and the one guard that tells an object
// member map from null, arrays and scalars.

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export type JsonObject = { [member: string]: JsonValue };

/** A JSON object (a member map): not null, not an array, not a scalar. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
