// Reading decoded JSON whose shape is not trusted: the accessors answer undefined or empty rather than throw,
// and never reach a prototype property. Shared by every mutation step.

import { isPlainObject } from "../../json/json-value.ts";

/** An own member of an object, or undefined for anything else (never a prototype property). */
export function member(value: unknown, key: string): unknown {
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The JSON type name that error texts show: `null` and `array` apart from `object`. */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Sets an object member; one called "__proto__" stays plain data instead of replacing the prototype. */
export function setMember(parent: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    parent[key] = value;
  }
}

/**
 * A deep copy of decoded JSON. Several times faster than structuredClone for this job (it dominated the
 * admission latency); a member named `__proto__` is copied as plain data, never as a prototype.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    setMember(copy, key, cloneJson((value as Record<string, unknown>)[key]));
  return copy as T;
}
