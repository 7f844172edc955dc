// The data plane's error bodies: RFC 7807 problem details, as App Configuration sends them
// (`application/problem+json; charset=utf-8`), with the service's `type` URIs and titles.

import type { FilterError } from "./name-filter.ts";

export const PROBLEM_JSON = "application/problem+json; charset=utf-8";

export interface ProblemDetails {
  type: string;
  title: string;
  name?: string;
  detail?: string;
  status: number;
}

/** 400: a query parameter the service refuses (a filter it cannot parse, among others). */
export function invalidArgument(parameter: string, detail: string): ProblemDetails {
  return {
    type: "https://azconfig.io/errors/invalid-argument",
    title: `Invalid request parameter '${parameter}'`,
    name: parameter,
    detail,
    status: 400,
  };
}

export const invalidFilter = (error: FilterError): ProblemDetails =>
  invalidArgument(error.parameter, error.message);

/** 409: a write to a locked (read-only) key-value. The title's spelling is the service's. */
export function keyLocked(key: string): ProblemDetails {
  return {
    type: "https://azconfig.io/errors/key-locked",
    title: `Modifing key '${key}' is not allowed`,
    name: key,
    detail: "The key is read-only. To allow modification unlock it first.",
    status: 409,
  };
}
