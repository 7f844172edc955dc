// The handler's first step: the pod must decode as a Pod, i.e. every field the mutation reads must have the
// type a Pod decoder expects. Checked against a declared shape rather than field by field in the mutation.

import { isPlainObject } from "../../json/json-value.ts";
import { jsonType, member } from "./json-access.ts";

type Shape =
  | "string"
  | "boolean"
  | { readonly fields: Readonly<Record<string, Shape>> }
  | { readonly items: Shape }
  | { readonly values: Shape };

const NAMED_ITEM: Shape = { fields: { name: "string" } };
const CONTAINER: Shape = {
  fields: { name: "string", env: { items: NAMED_ITEM }, volumeMounts: { items: NAMED_ITEM } },
};
const POD: Shape = {
  fields: {
    metadata: { fields: { name: "string", generateName: "string", annotations: { values: "string" } } },
    spec: {
      fields: {
        serviceAccountName: "string",
        hostNetwork: "boolean",
        hostAliases: { items: { fields: { ip: "string", hostnames: { items: "string" } } } },
        volumes: { items: NAMED_ITEM },
        initContainers: { items: CONTAINER },
        containers: { items: CONTAINER },
      },
    },
  },
};

/** Why `pod` cannot be decoded as a Pod (the handler's first step), or undefined when it can. */
export function podDecodeError(pod: unknown): string | undefined {
  if (!isPlainObject(pod)) {
    return `couldn't get version/kind; json parse error: expected a JSON object, got ${jsonType(pod)}`;
  }
  const misfit = shapeMisfit(pod, POD);
  // Paths are built from the root's members down, so they start with a dot.
  return misfit === undefined
    ? undefined
    : `cannot decode the pod: ${misfit.where.slice(1)} ${misfit.problem}`;
}

/**
 * The first place where `value` does not fit `shape`, its path relative to `value`; a null or missing field
 * counts as unset, as in Go. The path is built only on the way back from a misfit: a pod that fits, the
 * usual case, costs no allocation.
 */
function shapeMisfit(value: unknown, shape: Shape): { where: string; problem: string } | undefined {
  if (typeof shape === "string") {
    return typeof value === shape
      ? undefined
      : { where: "", problem: `must be a ${shape}, got ${jsonType(value)}` };
  }
  if ("items" in shape) {
    if (!Array.isArray(value)) return { where: "", problem: `must be an array, got ${jsonType(value)}` };
    for (let index = 0; index < value.length; index += 1) {
      const misfit = shapeMisfit(value[index], shape.items);
      if (misfit !== undefined) return { where: `[${index}]${misfit.where}`, problem: misfit.problem };
    }
    return undefined;
  }
  if (!isPlainObject(value)) return { where: "", problem: `must be an object, got ${jsonType(value)}` };
  if ("values" in shape) {
    for (const key of Object.keys(value)) {
      const misfit = shapeMisfit(value[key], shape.values);
      if (misfit !== undefined) {
        return { where: `[${JSON.stringify(key)}]${misfit.where}`, problem: misfit.problem };
      }
    }
    return undefined;
  }
  for (const field of Object.keys(shape.fields)) {
    const child = member(value, field);
    if (child == null) continue;
    const misfit = shapeMisfit(child, shape.fields[field] as Shape);
    if (misfit !== undefined) return { where: `.${field}${misfit.where}`, problem: misfit.problem };
  }
  return undefined;
}
