// Writes a manifest tree (manifest-tree.ts) as a Helm template: static parts as plain YAML, value-dependent
// parts as Go template actions. The output follows the usual chart idioms (`{{- if }}` on lines of their own,
// `toYaml … | nindent`) so that the generated files read like hand-written ones.

import { stringify } from "yaml";
import { ChartOnly, Expr, Fields, type Node, Spread, When } from "./manifest-tree.ts";

/** One template file: a header comment, then the object. */
export function helmTemplate(header: string, object: Node): string {
  const lines = [`{{- /*`, ...header.split("\n"), `*/ -}}`];
  lines.push(...mappingLines(object, 0));
  return `${lines.join("\n")}\n`;
}

/** The entries of a plain mapping node. */
function asMapping(node: Node): { readonly [key: string]: Node } {
  const special =
    node instanceof Expr ||
    node instanceof When ||
    node instanceof Spread ||
    node instanceof Fields ||
    node instanceof ChartOnly;
  if (typeof node !== "object" || Array.isArray(node) || special) throw new Error("expected a mapping");
  return node as { readonly [key: string]: Node };
}

/** A static scalar (or key) as YAML, quoted only where YAML needs it. */
function scalar(value: string | number | boolean): string {
  if (typeof value === "string" && value.includes("{{")) throw new Error(`template braces in ${value}`);
  return stringify(value).trimEnd();
}

const control = (indent: number, action: string) => `${" ".repeat(indent)}{{- ${action} }}`;

/** An if/else around the lines of each branch; a When in the else branch continues as `else if`. */
function conditional(node: When, indent: number, branchLines: (branch: Node) => string[]): string[] {
  const lines = [control(indent, `if ${node.condition.go}`)];
  let current = node;
  for (;;) {
    if (current.whenTrue !== undefined) lines.push(...branchLines(current.whenTrue));
    const next = current.whenFalse;
    if (next instanceof When) {
      lines.push(control(indent, `else if ${next.condition.go}`));
      current = next;
      continue;
    }
    if (next !== undefined) lines.push(control(indent, "else"), ...branchLines(next));
    lines.push(control(indent, "end"));
    return lines;
  }
}

/** A value that fits on its key's line, or undefined for blocks. */
function inline(node: Node): string | undefined {
  if (typeof node === "string" || typeof node === "number" || typeof node === "boolean") return scalar(node);
  if (!(node instanceof Expr)) return undefined;
  switch (node.kind) {
    case "string":
      return `{{ ${node.go} | quote }}`;
    case "number":
    case "boolean":
      return `{{ ${node.go} }}`;
    case "json":
      return `{{ ${node.go} | toJson }}`;
    case "yaml":
      return undefined;
  }
}

function mappingLines(node: Node, indent: number): string[] {
  if (node instanceof When) return conditional(node, indent, (branch) => mappingLines(branch, indent));
  if (node instanceof ChartOnly) return mappingLines(node.node, indent);
  if (node instanceof Fields) return node.parts.flatMap((part) => mappingLines(part, indent));
  return Object.entries(asMapping(node)).flatMap(([key, child]) => entryLines(key, child, indent));
}

function entryLines(key: string, node: Node, indent: number): string[] {
  const pad = " ".repeat(indent);
  const prefix = `${pad}${scalar(key)}:`;
  if (node instanceof When) {
    // A value left out when empty reads best with `with`, which names the value once.
    if (node.whenTrue === node.condition && node.whenFalse === undefined && node.condition.kind === "yaml") {
      return [
        control(indent, `with ${node.condition.go}`),
        prefix,
        `${pad}  {{- toYaml . | nindent ${indent + 2} }}`,
        control(indent, "end"),
      ];
    }
    return conditional(node, indent, (branch) => entryLines(key, branch, indent));
  }
  if (node instanceof ChartOnly) return entryLines(key, node.node, indent);
  const text = inline(node);
  if (text !== undefined) return [`${prefix} ${text}`];
  if (node instanceof Expr) return [prefix, `${pad}  {{- toYaml ${node.argument} | nindent ${indent + 2} }}`];
  if (Array.isArray(node)) {
    return node.length === 0 ? [`${prefix} []`] : [prefix, ...listLines(node as readonly Node[], indent + 2)];
  }
  if (!(node instanceof Fields) && Object.keys(asMapping(node)).length === 0) return [`${prefix} {}`];
  return [prefix, ...mappingLines(node, indent + 2)];
}

function listLines(items: readonly Node[], indent: number): string[] {
  const pad = " ".repeat(indent);
  return items.flatMap((item): string[] => {
    if (item instanceof Spread) {
      return [
        control(indent, `with ${item.list.go}`),
        `${pad}{{- toYaml . | nindent ${indent} }}`,
        control(indent, "end"),
      ];
    }
    if (item instanceof When) {
      return conditional(item, indent, (branch) =>
        listLines(Array.isArray(branch) ? (branch as readonly Node[]) : [branch], indent),
      );
    }
    const text = inline(item);
    if (text !== undefined) return [`${pad}- ${text}`];
    if (item instanceof Expr || Array.isArray(item)) throw new Error("list items are scalars or mappings");
    const lines = mappingLines(item, indent + 2);
    const first = lines[0];
    // The first entry goes on the dash's line, unless it is an action.
    if (first === undefined || first.trimStart().startsWith("{{")) return [`${pad}-`, ...lines];
    return [`${pad}- ${first.trimStart()}`, ...lines.slice(1)];
  });
}
