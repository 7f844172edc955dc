// App Configuration's key and label filters (`/kv?key=…&label=…`, `/keys?name=…`, `/labels?name=…`), parsed and
// matched without I/O. A filter is `*` (or absent) for any name, a name, a name ending in `*` for a prefix, or up
// to five names separated by commas. `*`, `,` and `\` are reserved: a backslash before one makes it literal (before
// any other character it is allowed too, and means that character). In a label filter, the NUL character names the
// null label (what SDKs send as "\0"). Anything else is refused with the parameter's name, never guessed at: the
// suffix and infix forms (`*abc`, `*abc*`) of the service's first REST reference among them, as the current SDKs
// document a single trailing wildcard only.

/** What a filter selects; a name of `null` is the null label. */
export type NameFilter =
  | { kind: "any" }
  | { kind: "names"; names: (string | null)[] }
  | { kind: "prefix"; prefix: string };

export type FilterParameter = "key" | "label" | "name" | "tags";

/** A filter the service refuses: answered 400 with the parameter's name. */
export class FilterError extends Error {
  override readonly name = "FilterError";
  readonly parameter: FilterParameter;

  constructor(parameter: FilterParameter, detail: string) {
    super(detail);
    this.parameter = parameter;
  }
}

const MAX_NAMES = 5;
const NULL_LABEL = "\u0000";

interface Segment {
  text: string;
  /** Ends in an unescaped `*`. */
  wildcard: boolean;
}

/**
 * Parses a filter. `nullLabel` allows the NUL character as a whole name (label filters). An absent or empty filter
 * is `any`, as the service reads an omitted one.
 */
export function parseNameFilter(
  parameter: FilterParameter,
  filter: string | undefined,
  { nullLabel = false } = {},
): NameFilter {
  if (filter === undefined || filter === "" || filter === "*") return { kind: "any" };
  const segments = splitSegments(parameter, filter);
  if (segments.length > MAX_NAMES) {
    throw new FilterError(parameter, `${parameter}: up to ${MAX_NAMES} comma-separated names are allowed.`);
  }
  const wildcards = segments.filter((segment) => segment.wildcard);
  if (wildcards.length > 0 && segments.length > 1) {
    throw new FilterError(
      parameter,
      `${parameter}: a wildcard and a comma-separated list cannot be combined. Use one 'prefix*' or up to ${MAX_NAMES} names.`,
    );
  }
  const [only] = wildcards;
  if (only) return only.text === "" ? { kind: "any" } : { kind: "prefix", prefix: only.text };
  return {
    kind: "names",
    names: segments.map(({ text }) => {
      if (text === NULL_LABEL && nullLabel) return null;
      if (text.includes(NULL_LABEL)) {
        throw new FilterError(
          parameter,
          `${parameter}: the NUL character may only stand alone, for the null label.`,
        );
      }
      if (text === "") throw new FilterError(parameter, `${parameter}: a name in the list is empty.`);
      return text;
    }),
  };
}

function splitSegments(parameter: FilterParameter, filter: string): Segment[] {
  const segments: Segment[] = [];
  let text = "";
  let wildcard = false;
  for (let i = 0; i < filter.length; i++) {
    const char = filter[i] as string;
    if (wildcard && char !== ",") {
      throw new FilterError(
        parameter,
        `${parameter}: '*' is allowed only at the end of a name; write '\\*' for a literal asterisk.`,
      );
    }
    if (char === "\\") {
      const next = filter[i + 1];
      if (next === undefined) {
        throw new FilterError(
          parameter,
          `${parameter}(${i + 1}): a filter cannot end in '\\'; write '\\\\' for a literal backslash.`,
        );
      }
      text += next;
      i++;
    } else if (char === ",") {
      segments.push({ text, wildcard });
      text = "";
      wildcard = false;
    } else if (char === "*") {
      wildcard = true;
    } else {
      text += char;
    }
  }
  segments.push({ text, wildcard });
  return segments;
}

/** Whether a key or label (`null`: the null label) is selected by `filter`. */
export function matchesNameFilter(filter: NameFilter, name: string | null): boolean {
  switch (filter.kind) {
    case "any":
      return true;
    case "prefix":
      return name?.startsWith(filter.prefix) ?? false;
    case "names":
      return filter.names.includes(name);
  }
}

/** A tags filter: the key-values whose tags hold every `name=value` given (`tags=a=1&tags=b=2`). */
export type TagsFilter = readonly (readonly [string, string])[];

export function parseTagsFilter(values: readonly string[]): TagsFilter {
  return values.map((text) => {
    const equals = text.indexOf("=");
    if (equals <= 0) {
      throw new FilterError("tags", `tags: '${text}' must read <name>=<value>, e.g. tags=env%3Dprd.`);
    }
    return [text.slice(0, equals), text.slice(equals + 1)] as const;
  });
}

export function matchesTagsFilter(filter: TagsFilter, tags: Readonly<Record<string, string>>): boolean {
  return filter.every(([name, value]) => Object.hasOwn(tags, name) && tags[name] === value);
}
