import { AadstsError } from "../exchange/aadsts-errors.ts";

const DEFAULT_SCOPE_SUFFIX = "/.default";

/**
 * The resource a client-credentials request asks for: from v2.0's `scope` (`{resource}/.default`,
 * exactly one) or v1's `resource`. The resource keeps its spelling, so `aud` echoes it:
 * `https://management.core.windows.net//.default` asks for `https://management.core.windows.net/`.
 */
export function resourceFromScope(scope: string | undefined): string {
  if (scope === undefined || scope.trim() === "") throw new AadstsError(900144, { name: "scope" });
  const scopes = scope.trim().split(/\s+/);
  const [only] = scopes;
  if (scopes.length !== 1 || only === undefined) throw new AadstsError(70011, { scope });
  if (!only.endsWith(DEFAULT_SCOPE_SUFFIX)) throw new AadstsError(1002012, { scope: only });
  const resource = only.slice(0, -DEFAULT_SCOPE_SUFFIX.length);
  if (resource === "" || /\s/.test(resource)) throw new AadstsError(70011, { scope: only });
  return resource;
}

/** Compares resource identifiers as Entra resolves them: case-insensitive, trailing slashes ignored. */
export function resourceKey(resource: string): string {
  return resource.trim().replace(/\/+$/, "").toLowerCase();
}
