// Lists of the data plane (`/kv`, `/keys`, `/labels`, `/revisions`) in pages, without I/O: at most PAGE_SIZE items,
// and while more follow, a `Link: <…&after=TOKEN>; rel="next"` header and an `@nextLink` member naming the next
// page. The token is where the page ended, opaque to clients.

import { KeyValueError } from "./key-value-documents.ts";
import { invalidArgument } from "./problem-details.ts";

export const PAGE_SIZE = 100;

export interface Page<T> {
  items: T[];
  /** The relative URL of the next page, when there is one. */
  nextLink?: string;
}

/**
 * The page of `items` (in list order, each at a distinct `position` that sorts in that order) that starts after
 * `after`, the token of the previous page's end. `path` and `query` are the request's, to build the next link.
 */
export function pageOf<T>(
  items: readonly T[],
  position: (item: T) => string,
  request: { path: string; query: URLSearchParams },
  size = PAGE_SIZE,
): Page<T> {
  const after = afterPosition(request.query);
  const start = after === undefined ? 0 : items.findIndex((item) => position(item) > after);
  const rest = start === -1 ? [] : items.slice(start);
  const page = rest.slice(0, size);
  const last = page.at(-1);
  if (rest.length <= size || last === undefined) return { items: page };
  return { items: page, nextLink: nextLinkAfter(position(last), request) };
}

/** The position the request's `after` token names: the list goes on past it. Undefined on a first page. */
export function afterPosition(query: URLSearchParams): string | undefined {
  const after = query.get("after");
  return after === null ? undefined : positionOf(after);
}

/** The relative URL of the page after the one that ended at `position`, with the request's other parameters. */
export function nextLinkAfter(position: string, request: { path: string; query: URLSearchParams }): string {
  const next = new URLSearchParams(request.query);
  // Last, never first: the JS SDK reads the token with URLSearchParams over the whole link, path included.
  next.delete("after");
  next.append("after", Buffer.from(position, "utf8").toString("base64url"));
  return `${request.path}?${next.toString()}`;
}

/** The `Link` header naming the next page. */
export const linkHeader = (nextLink: string): string => `<${nextLink}>; rel="next"`;

function positionOf(token: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) {
    throw new KeyValueError(invalidArgument("after", "The 'after' token is not one this service gave."));
  }
  return Buffer.from(token, "base64url").toString("utf8");
}
