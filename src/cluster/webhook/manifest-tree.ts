// A small language for Kubernetes objects whose parts depend on Helm-style values, so that one description
// serves both `wikit webhook manifests` (evaluated here, in TypeScript) and the Helm chart (the same tree written
// out as Go templates by helm-templates.ts). Plain objects, arrays and scalars are static YAML; the classes
// below mark what depends on the values. Every Expr carries both meanings side by side: its Go template text and
// its evaluation, so the two stay next to each other and tests with a real Helm hold them equal.

/** How an expression's value is written into YAML: quoted text, a plain number or boolean, JSON, or a block. */
export type ValueKind = "string" | "number" | "boolean" | "json" | "yaml";

/** What a template sees: the values and the release (`.Values`, `.Release.*`, `.Chart.AppVersion`). */
export interface Scope {
  values: unknown;
  namespace: string;
  release: string;
  appVersion: string;
}

export class WebhookValuesError extends Error {
  override name = "WebhookValuesError";
}

export class Expr {
  readonly kind: ValueKind;
  /** The Go template pipeline. */
  readonly go: string;
  readonly evaluate: (scope: Scope) => unknown;
  /** Whether `go` can stand as one argument without parentheses. */
  readonly atomic: boolean;

  constructor(kind: ValueKind, go: string, evaluate: (scope: Scope) => unknown, atomic = false) {
    this.kind = kind;
    this.go = go;
    this.evaluate = evaluate;
    this.atomic = atomic;
  }

  /** The pipeline as one argument of a Go function call. */
  get argument(): string {
    return this.atomic ? this.go : `(${this.go})`;
  }
}

/**
 * A mapping value, list item, mapping fragment or whole object present only when `condition` holds (or replaced
 * by `whenFalse`). In a list, a branch that is itself a list adds its items.
 */
export class When {
  readonly condition: Expr;
  readonly whenTrue: Node | undefined;
  readonly whenFalse: Node | undefined;

  constructor(condition: Expr, whenTrue: Node | undefined, whenFalse: Node | undefined) {
    this.condition = condition;
    this.whenTrue = whenTrue;
    this.whenFalse = whenFalse;
  }
}

/** List items appended from a list value (nothing when it is empty). */
export class Spread {
  readonly list: Expr;

  constructor(list: Expr) {
    this.list = list;
  }
}

/** Mapping entries only the chart renders (labels of Helm's own bookkeeping). */
export class ChartOnly {
  readonly node: Node;

  constructor(node: Node) {
    this.node = node;
  }
}

/** A mapping assembled from fragments, some of them conditional. */
export class Fields {
  readonly parts: readonly (MappingNode | When | ChartOnly)[];

  constructor(parts: readonly (MappingNode | When | ChartOnly)[]) {
    this.parts = parts;
  }
}

export type MappingNode = { readonly [key: string]: Node } | Fields;
export type Node =
  | string
  | number
  | boolean
  | Expr
  | When
  | Spread
  | ChartOnly
  | Fields
  | readonly Node[]
  | { readonly [key: string]: Node };

// ---- Building blocks ----

const literal = (value: string | number): string =>
  typeof value === "string" ? JSON.stringify(value) : `${value}`;
const asExpr = (value: Expr | string | number): Expr =>
  value instanceof Expr
    ? value
    : new Expr(typeof value === "string" ? "string" : "number", literal(value), () => value, true);

function lookup(values: unknown, path: string): unknown {
  let current = values;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Go templates' truth: false, 0, "", nil and empty collections are false. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/** `.Values.<path>`. */
export const value = (path: string, kind: ValueKind = "string"): Expr =>
  new Expr(kind, `.Values.${path}`, (scope) => lookup(scope.values, path), true);

/** `.Values.<map>.<key>`, read as nothing (not a template error) when the user set the whole map to null. */
export const valueInMap = (map: string, key: string, kind: ValueKind = "string"): Expr =>
  new Expr(kind, `(.Values.${map} | default dict).${key}`, (scope) => lookup(scope.values, `${map}.${key}`));

export const releaseName = new Expr("string", ".Release.Name", (scope) => scope.release, true);
export const releaseNamespace = new Expr("string", ".Release.Namespace", (scope) => scope.namespace, true);
export const appVersion = new Expr("string", ".Chart.AppVersion", (scope) => scope.appVersion, true);

/** An expression only the chart has; evaluating it is a mistake in the tree. */
export const chartOnlyExpr = (go: string, kind: ValueKind = "string"): Expr =>
  new Expr(kind, go, () => {
    throw new Error(`${go} exists only in the chart`);
  });

/** Go's printf with `%s` and `%d` only. */
export function printf(format: string, ...args: (Expr | string | number)[]): Expr {
  const exprs = args.map(asExpr);
  return new Expr(
    "string",
    `printf ${literal(format)} ${exprs.map((e) => e.argument).join(" ")}`,
    (scope) => {
      let index = 0;
      return format.replace(/%[sd]/g, () => String(exprs[index++]?.evaluate(scope) ?? ""));
    },
  );
}

export const int = (expr: Expr): Expr =>
  new Expr("number", `int ${expr.argument}`, (scope) => Math.trunc(Number(expr.evaluate(scope) ?? 0)));

export const add = (amount: number, expr: Expr): Expr =>
  new Expr(
    "number",
    `add ${amount} ${int(expr).argument}`,
    (scope) => amount + Number(int(expr).evaluate(scope)),
  );

/** The port of a listen address such as `:8095` or `0.0.0.0:8095`. */
export const portOf = (address: Expr): Expr =>
  new Expr("number", `regexReplaceAll "^.*:" ${address.go} "" | atoi`, (scope) => {
    const text = String(address.evaluate(scope));
    return Number(text.slice(text.lastIndexOf(":") + 1));
  });

/** `fallback` when `expr` is empty (Go's `default`). */
export const orDefault = (expr: Expr, fallback: Expr): Expr =>
  new Expr(expr.kind, `${expr.go} | default ${fallback.argument}`, (scope) => {
    const found = expr.evaluate(scope);
    return truthy(found) ? found : fallback.evaluate(scope);
  });

/** Fails rendering with `message` when `expr` is empty. */
export const required = (message: string, expr: Expr): Expr =>
  new Expr(expr.kind, `required ${literal(message)} ${expr.argument}`, (scope) => {
    const found = expr.evaluate(scope);
    if (found === undefined || found === null || found === "") throw new WebhookValuesError(message);
    return found;
  });

export const join = (separator: string, list: Expr): Expr =>
  new Expr("string", `join ${literal(separator)} ${list.argument}`, (scope) =>
    ((list.evaluate(scope) as unknown[] | undefined) ?? []).join(separator),
  );

/** A list value with one more item, each item once (first occurrence kept). */
export const uniqueAppend = (list: Expr, item: Expr): Expr =>
  new Expr("yaml", `uniq (concat (${list.go} | default list) (list ${item.argument}))`, (scope) => [
    ...new Set([...((list.evaluate(scope) as unknown[] | undefined) ?? []), item.evaluate(scope)]),
  ]);

export const emptyDict = new Expr("yaml", "dict", () => ({}), true);

/** A map built in the template (Go's `dict`). */
export function dict(entries: Record<string, Expr | string>): Expr {
  const pairs = Object.entries(entries).map(([key, entry]) => [key, asExpr(entry)] as const);
  return new Expr(
    "yaml",
    `dict ${pairs.map(([key, e]) => `${literal(key)} ${e.argument}`).join(" ")}`,
    (scope) => Object.fromEntries(pairs.map(([key, e]) => [key, e.evaluate(scope)])),
  );
}

/** The entries of `over` laid over those of `base` (Go's `merge`, whose first map wins; copied, as it changes it). */
export const mergeOver = (over: Expr, base: Expr): Expr =>
  new Expr("yaml", `merge (deepCopy ${over.argument}) ${base.argument}`, (scope) => ({
    ...((base.evaluate(scope) as object | undefined) ?? {}),
    ...((over.evaluate(scope) as object | undefined) ?? {}),
  }));

export const ternary = (condition: Expr, whenTrue: Expr, whenFalse: Expr): Expr =>
  new Expr(
    whenTrue.kind,
    `ternary ${whenTrue.argument} ${whenFalse.argument} ${condition.argument}`,
    (scope) => (truthy(condition.evaluate(scope)) ? whenTrue.evaluate(scope) : whenFalse.evaluate(scope)),
  );

/** Whether a value is given at all (0 and "" count), unlike Go's truth. */
export const isSet = (expr: Expr): Expr =>
  new Expr("boolean", `not (kindIs "invalid" ${expr.argument})`, (scope) => {
    const found = expr.evaluate(scope);
    return found !== undefined && found !== null;
  });

export const not = (expr: Expr): Expr =>
  new Expr("boolean", `not ${expr.argument}`, (scope) => !truthy(expr.evaluate(scope)));

export const when = (condition: Expr, whenTrue: Node | undefined, whenFalse?: Node): When =>
  new When(condition, whenTrue, whenFalse);

/** A mapping value left out when it is empty. */
export const omitEmpty = (expr: Expr): When => new When(expr, expr, undefined);
export const spread = (list: Expr): Spread => new Spread(list);
export const chartOnly = (node: Node): ChartOnly => new ChartOnly(node);
export const fields = (...parts: (MappingNode | When | ChartOnly)[]): Fields => new Fields(parts);

// ---- Evaluation ----

const ABSENT = Symbol("absent");

/** The objects the tree describes for these values and release, as the chart would render them. */
export function evaluate(node: Node, scope: Scope): unknown {
  const result = evaluateNode(node, scope);
  return result === ABSENT ? undefined : result;
}

function evaluateNode(node: Node, scope: Scope): unknown {
  if (node instanceof Expr) return structuredClone(node.evaluate(scope));
  if (node instanceof When) {
    const branch = truthy(node.condition.evaluate(scope)) ? node.whenTrue : node.whenFalse;
    return branch === undefined ? ABSENT : evaluateNode(branch, scope);
  }
  if (node instanceof ChartOnly) return ABSENT;
  if (node instanceof Spread) throw new Error("a spread belongs in a list");
  if (node instanceof Fields) {
    const result: Record<string, unknown> = {};
    for (const part of node.parts) {
      const evaluated = evaluateNode(part, scope);
      if (evaluated !== ABSENT) Object.assign(result, evaluated);
    }
    return result;
  }
  if (Array.isArray(node)) {
    const items: unknown[] = [];
    for (const item of node as readonly Node[]) {
      if (item instanceof Spread) {
        const list = item.list.evaluate(scope);
        if (truthy(list)) items.push(...structuredClone(list as unknown[]));
      } else {
        const evaluated = evaluateNode(item, scope);
        if (evaluated === ABSENT) continue;
        if (item instanceof When && Array.isArray(evaluated)) items.push(...evaluated);
        else items.push(evaluated);
      }
    }
    return items;
  }
  if (typeof node === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node as Record<string, Node>)) {
      const evaluated = evaluateNode(child, scope);
      if (evaluated !== ABSENT) result[key] = evaluated;
    }
    return result;
  }
  return node;
}
