import type { ArmResource, Store } from "../../store/store.ts";
import { notFound } from "./directory-error.ts";

/**
 * The resource at `id` when it has `type`; otherwise a 404 that names `kind` (e.g. "vault"), since a
 * resource of another type at the same ID is not the one asked for.
 */
export async function getResourceOfType(
  store: Store,
  id: string,
  type: string,
  kind: string,
): Promise<ArmResource> {
  const found = await store.getResource(id);
  if (!found || found.type.toLowerCase() !== type.toLowerCase()) {
    const name = id.split("/").pop();
    throw notFound("ResourceNotFound", `The ${kind} '${name}' was not found (resource ID '${id}').`);
  }
  return found;
}
