// What a PUT may say about any resource — location, tags, properties — read from the request body with
// ARM's error texts. The management API's schemas reject the same bodies first; these checks keep the
// directory safe for every other caller.

import { isPlainObject } from "../../json/json-value.ts";
import { badRequest } from "./directory-error.ts";

export const DEFAULT_LOCATION = "local";

/** The texts of the input errors, shared with the management API's body schemas. */
export const RESOURCE_INPUT_ERRORS = {
  tags: "'tags' must be an object of string values.",
  tagValues: "'tags' values must be strings.",
  location: "'location' must be a string.",
  properties: "'properties' must be an object.",
} as const;

export interface ResourceInput {
  location?: unknown;
  tags?: unknown;
  properties?: unknown;
}

export function tagsOf(input: ResourceInput): Record<string, string> {
  if (input.tags === undefined || input.tags === null) return {};
  if (!isPlainObject(input.tags)) {
    throw badRequest("InvalidRequestContent", RESOURCE_INPUT_ERRORS.tags);
  }
  const tags: [string, string][] = [];
  for (const [name, value] of Object.entries(input.tags)) {
    if (typeof value !== "string") throw badRequest("InvalidRequestContent", RESOURCE_INPUT_ERRORS.tagValues);
    tags.push([name, value]);
  }
  // fromEntries defines own members, so a tag named `__proto__` stays a tag.
  return Object.fromEntries(tags);
}

/** The requested location; `fallback` when none is given (an empty string counts as none). */
export function locationOf(input: ResourceInput, fallback: string): string {
  if (input.location === undefined || input.location === null || input.location === "") return fallback;
  if (typeof input.location !== "string") {
    throw badRequest("InvalidRequestContent", RESOURCE_INPUT_ERRORS.location);
  }
  return input.location;
}

export function propertiesOf(input: ResourceInput): Record<string, unknown> {
  if (input.properties === undefined || input.properties === null) return {};
  if (!isPlainObject(input.properties)) {
    throw badRequest("InvalidRequestContent", RESOURCE_INPUT_ERRORS.properties);
  }
  return input.properties;
}
