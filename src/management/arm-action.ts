// Which ARM action a management request performs, and on which scope: what Azure RBAC decides on. Pure; the
// paths are the management API's own (ARM resource IDs, `…/providers/{namespace}/{type}/{name}/…`).

/** What a request needs: an RBAC action on a scope, any authenticated caller, or the admin credential. */
export type ArmRequirement =
  | { kind: "action"; action: string; scope: string }
  | { kind: "anyCaller" }
  | { kind: "admin" };

const VERBS: Readonly<Record<string, string>> = {
  GET: "read",
  HEAD: "read",
  PUT: "write",
  PATCH: "write",
  DELETE: "delete",
};

/**
 * The requirement of `method path` (no query string). Lists read on the scope that holds them; the tenant-wide role
 * definitions and the tenant list are readable by anyone signed in; what is not ARM (the sign-in log, the local cluster's Kubernetes
 * API) is the admin's alone.
 */
export function armRequirement(method: string, path: string): ArmRequirement {
  if (method.toUpperCase() === "POST") return postRequirement(path);
  const verb = VERBS[method.toUpperCase()];
  const segments = path.split("/").filter((segment) => segment !== "");
  if (verb === undefined || segments[0]?.toLowerCase() !== "subscriptions") {
    const tenantWide = /^\/(?:providers\/Microsoft\.Authorization\/roleDefinitions|tenants)\/?$/i.test(path);
    return tenantWide && verb === "read" ? { kind: "anyCaller" } : { kind: "admin" };
  }
  // `/subscriptions` itself: each caller sees the subscriptions it holds a role in.
  if (segments.length === 1) return verb === "read" ? { kind: "anyCaller" } : { kind: "admin" };
  const scope = (count: number) => `/${segments.slice(0, count).join("/")}`;
  // The last `providers`: an extension resource (a role assignment) sits on a scope that may have its own.
  const providers = segments.map((segment) => segment.toLowerCase()).lastIndexOf("providers");
  if (providers <= 0) {
    // /subscriptions/{s}[/resourceGroups[/{g}]]
    if (segments.length <= 2)
      return { kind: "action", action: `Microsoft.Resources/subscriptions/${verb}`, scope: scope(2) };
    if (segments[2]?.toLowerCase() !== "resourcegroups" || segments.length > 4) return { kind: "admin" };
    return {
      kind: "action",
      action: `Microsoft.Resources/subscriptions/resourceGroups/${verb}`,
      scope: segments.length === 4 ? scope(4) : scope(2),
    };
  }
  // {scope}/providers/{namespace}/{type}[/{name}[/{childType}[/{childName}]]]
  const [namespace, ...rest] = segments.slice(providers + 1);
  if (namespace === undefined || rest.length === 0) return { kind: "admin" };
  const types = rest.filter((_, index) => index % 2 === 0);
  const named = rest.length % 2 === 0;
  return {
    kind: "action",
    action: `${namespace}/${types.join("/")}/${verb}`,
    // A named resource is its own scope; a collection is read on what holds it.
    scope: named ? scope(segments.length) : rest.length === 1 ? scope(providers) : scope(segments.length - 1),
  };
}

/**
 * A POST is a resource's action, `{resource ID}/{action}` (listKeys, regenerateKey, purge): ARM's
 * `{namespace}/{types}/{action}/action` on the resource. Any other POST is the admin's alone.
 */
function postRequirement(path: string): ArmRequirement {
  const segments = path.split("/").filter((segment) => segment !== "");
  const actionName = segments.at(-1);
  const resource = armRequirement("GET", `/${segments.slice(0, -1).join("/")}`);
  if (actionName === undefined || resource.kind !== "action") return { kind: "admin" };
  const named = resource.scope.toLowerCase() === `/${segments.slice(0, -1).join("/")}`.toLowerCase();
  if (!named || !/\/providers\//i.test(resource.scope)) return { kind: "admin" };
  return {
    kind: "action",
    action: `${resource.action.replace(/\/read$/, "")}/${actionName}/action`,
    scope: resource.scope,
  };
}
