// Microsoft Graph's `$filter`, the part of OData that tools send for applications and service principals:
//   appId eq '…'   displayName eq '…'   startswith(displayName,'…')   identifierUris/any(s:s eq '…')
// joined by `and` / `or`, with `not` and parentheses. String comparisons ignore case, as Graph's do on these
// properties. Pure: the text becomes a predicate over a directory object, or a GraphFilterError.

export class GraphFilterError extends Error {
  /** Graph's code: a malformed clause, or a well-formed one Graph (and wikit) does not serve. */
  readonly code: "BadRequest" | "Request_UnsupportedQuery";

  constructor(code: GraphFilterError["code"], message: string) {
    super(message);
    this.name = "GraphFilterError";
    this.code = code;
  }
}

export type GraphPredicate = (object: Readonly<Record<string, unknown>>) => boolean;

type Token =
  | { kind: "word"; text: string }
  | { kind: "string"; text: string }
  | { kind: "punct"; text: "(" | ")" | "," | "/" | ":" };

const MAX_FILTER_LENGTH = 2048;
const MAX_DEPTH = 32;

/** The predicate `$filter` stands for; throws GraphFilterError for what Graph refuses. */
export function parseGraphFilter(filter: string): GraphPredicate {
  if (filter.length > MAX_FILTER_LENGTH) {
    throw new GraphFilterError("BadRequest", `The $filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  }
  const parser = new Parser(tokenize(filter));
  const predicate = parser.expression(0);
  parser.expectEnd();
  return predicate;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at] as string;
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === "'") {
      let value = "";
      at += 1;
      for (;;) {
        if (at >= text.length) throw invalid("a string literal is not closed");
        if (text[at] === "'") {
          if (text[at + 1] !== "'") break;
          value += "'";
          at += 2;
        } else {
          value += text[at];
          at += 1;
        }
      }
      at += 1;
      tokens.push({ kind: "string", text: value });
    } else if ("(),/:".includes(char)) {
      tokens.push({ kind: "punct", text: char as "(" | ")" | "," | "/" | ":" });
      at += 1;
    } else {
      const word = /^[A-Za-z0-9_.$@-]+/.exec(text.slice(at))?.[0];
      if (!word) throw invalid(`unexpected character '${char}'`);
      tokens.push({ kind: "word", text: word });
      at += word.length;
    }
  }
  return tokens;
}

class Parser {
  readonly #tokens: Token[];
  #at = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  /** or-expression := and-expression ('or' and-expression)* */
  expression(depth: number): GraphPredicate {
    if (depth > MAX_DEPTH) throw invalid("the filter nests too deeply");
    let left = this.#conjunction(depth);
    while (this.#acceptWord("or")) {
      const [a, b] = [left, this.#conjunction(depth)];
      left = (object) => a(object) || b(object);
    }
    return left;
  }

  expectEnd(): void {
    const next = this.#tokens[this.#at];
    if (next) throw invalid(`unexpected '${next.text}'`);
  }

  #conjunction(depth: number): GraphPredicate {
    let left = this.#unary(depth);
    while (this.#acceptWord("and")) {
      const [a, b] = [left, this.#unary(depth)];
      left = (object) => a(object) && b(object);
    }
    return left;
  }

  #unary(depth: number): GraphPredicate {
    if (this.#acceptWord("not")) {
      const inner = this.#unary(depth + 1);
      return (object) => !inner(object);
    }
    if (this.#acceptPunct("(")) {
      const inner = this.expression(depth + 1);
      this.#expectPunct(")");
      return inner;
    }
    return this.#clause();
  }

  /** `p eq v`, `p ne v`, `startswith(p, v)`, `p/any(x:x eq v)` */
  #clause(): GraphPredicate {
    const name = this.#expectWord();
    if (name.toLowerCase() === "startswith" && this.#acceptPunct("(")) {
      const property = this.#expectWord();
      this.#expectPunct(",");
      const prefix = this.#expectString().toLowerCase();
      this.#expectPunct(")");
      return (object) => {
        const value = object[property];
        return typeof value === "string" && value.toLowerCase().startsWith(prefix);
      };
    }
    if (this.#acceptPunct("/")) {
      if (this.#expectWord().toLowerCase() !== "any") throw unsupported();
      this.#expectPunct("(");
      const variable = this.#expectWord();
      this.#expectPunct(":");
      if (this.#expectWord() !== variable) throw unsupported();
      const operator = this.#expectWord().toLowerCase();
      if (operator !== "eq") throw unsupported();
      const wanted = this.#literal();
      this.#expectPunct(")");
      return (object) => {
        const values = object[name];
        return Array.isArray(values) && values.some((value) => equal(value, wanted));
      };
    }
    const operator = this.#expectWord().toLowerCase();
    if (operator !== "eq" && operator !== "ne") throw unsupported();
    const wanted = this.#literal();
    return operator === "eq"
      ? (object) => equal(object[name], wanted)
      : (object) => !equal(object[name], wanted);
  }

  #literal(): string | boolean | null {
    const token = this.#tokens[this.#at];
    if (token?.kind === "string") {
      this.#at += 1;
      return token.text;
    }
    if (token?.kind === "word" && ["true", "false", "null"].includes(token.text)) {
      this.#at += 1;
      return token.text === "null" ? null : token.text === "true";
    }
    throw invalid(token ? `expected a value, found '${token.text}'` : "expected a value at the end");
  }

  #expectString(): string {
    const literal = this.#literal();
    if (typeof literal !== "string") throw invalid("expected a quoted string");
    return literal;
  }

  #expectWord(): string {
    const token = this.#tokens[this.#at];
    if (token?.kind !== "word")
      throw invalid(token ? `unexpected '${token.text}'` : "the filter ends too early");
    this.#at += 1;
    return token.text;
  }

  #acceptWord(word: string): boolean {
    const token = this.#tokens[this.#at];
    if (token?.kind !== "word" || token.text.toLowerCase() !== word) return false;
    this.#at += 1;
    return true;
  }

  #acceptPunct(text: string): boolean {
    const token = this.#tokens[this.#at];
    if (token?.kind !== "punct" || token.text !== text) return false;
    this.#at += 1;
    return true;
  }

  #expectPunct(text: string): void {
    if (!this.#acceptPunct(text)) {
      const token = this.#tokens[this.#at];
      throw invalid(token ? `expected '${text}', found '${token.text}'` : `expected '${text}' at the end`);
    }
  }
}

function equal(value: unknown, wanted: string | boolean | null): boolean {
  if (typeof wanted === "string")
    return typeof value === "string" && value.toLowerCase() === wanted.toLowerCase();
  return (value ?? null) === wanted;
}

function invalid(detail: string): GraphFilterError {
  return new GraphFilterError("BadRequest", `Invalid filter clause: ${detail}.`);
}

function unsupported(): GraphFilterError {
  return new GraphFilterError("Request_UnsupportedQuery", "Unsupported Query.");
}
