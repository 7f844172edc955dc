// Paged lists: `maxresults` (1–25) picks the page size; `nextLink` is an absolute URL that clients follow
// verbatim, so it carries the api-version, the page size and a `$skiptoken` (the offset of the next page).

import { MAX_PAGE_SIZE } from "./constants.ts";
import { badParameter } from "./vault-error.ts";

export interface ListPage<T> {
  value: T[];
  nextLink: string | null;
}

export interface PageRequest {
  maxResults: number;
  skip: number;
}

export function parsePageRequest(query: URLSearchParams): PageRequest {
  const maxResults = query.get("maxresults");
  const skipToken = query.get("$skiptoken");
  const page: PageRequest = { maxResults: MAX_PAGE_SIZE, skip: 0 };
  if (maxResults !== null && maxResults !== "") {
    page.maxResults = Number(maxResults);
    if (!/^\d+$/.test(maxResults) || page.maxResults < 1 || page.maxResults > MAX_PAGE_SIZE) {
      throw badParameter(
        `'maxresults' must be a whole number from 1 to ${MAX_PAGE_SIZE}; it was '${maxResults}'.`,
      );
    }
  }
  if (skipToken !== null && skipToken !== "") {
    if (!/^\d{1,9}$/.test(skipToken)) {
      throw badParameter(
        "The '$skiptoken' is not one this vault issued. Follow the nextLink of the previous page.",
      );
    }
    page.skip = Number(skipToken);
  }
  return page;
}

export interface PageLink {
  /** Scheme, host and port of the request, e.g. `https://kv1.vault.example.test:8443`. */
  origin: string;
  /** The list's path, e.g. `/secrets` or `/secrets/db/versions`. */
  path: string;
  apiVersion: string;
}

export function listPage<T>(items: readonly T[], page: PageRequest, link: PageLink): ListPage<T> {
  const end = page.skip + page.maxResults;
  if (end >= items.length) return { value: items.slice(page.skip), nextLink: null };
  const query = `api-version=${encodeURIComponent(link.apiVersion)}&$skiptoken=${end}&maxresults=${page.maxResults}`;
  return { value: items.slice(page.skip, end), nextLink: `${link.origin}${link.path}?${query}` };
}
