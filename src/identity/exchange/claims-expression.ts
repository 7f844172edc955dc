// Claims-matching expressions, Entra's "flexible federated identity credential" language (languageVersion 1): a
// credential names the claims a token must carry instead of one exact subject, so that one credential serves,
// say, every service account of a namespace:
//
//   claims['sub'] matches 'system:serviceaccount:team-a:*' and claims['aud'] eq 'api://AzureADTokenExchange'
//
// Grammar: expression = comparison { "and" comparison }; comparison = "claims" "[" string "]" ("eq" | "matches")
// string; string = '…' with \' and \\ as the only escapes. `eq` compares exactly; `matches` takes `*` for any run
// of characters and `?` for exactly one. Pure: text in, a parsed expression or a ClaimsExpressionError out.

export const CLAIMS_EXPRESSION_LANGUAGE_VERSION = 1;
/** Longest expression taken, in characters. */
export const MAX_CLAIMS_EXPRESSION_LENGTH = 600;

export type ClaimsComparison = { claim: string; operator: "eq" | "matches"; value: string };

export interface ClaimsExpression {
  /** Every comparison must hold. */
  readonly all: readonly ClaimsComparison[];
}

/** A malformed expression: where (a 1-based character position) and what was expected there. */
export class ClaimsExpressionError extends Error {
  readonly position: number;

  constructor(position: number, message: string) {
    super(`at character ${position}: ${message}`);
    this.name = "ClaimsExpressionError";
    this.position = position;
  }
}

type Token =
  | { kind: "word"; text: string; start: number }
  | { kind: "string"; text: string; start: number }
  | { kind: "symbol"; text: "[" | "]"; start: number }
  | { kind: "end"; text: ""; start: number };

export function parseClaimsExpression(source: string): ClaimsExpression {
  if (source.length > MAX_CLAIMS_EXPRESSION_LENGTH) {
    throw new ClaimsExpressionError(
      MAX_CLAIMS_EXPRESSION_LENGTH + 1,
      `the expression is longer than ${MAX_CLAIMS_EXPRESSION_LENGTH} characters`,
    );
  }
  const tokens = tokenize(source);
  let index = 0;
  const peek = () => tokens[index] as Token;
  const describe = (token: Token) =>
    token.kind === "end"
      ? "the end of the expression"
      : token.kind === "string"
        ? "a string"
        : `'${token.text}'`;
  const expect = (what: string, accept: (token: Token) => boolean): Token => {
    const token = peek();
    if (!accept(token))
      throw new ClaimsExpressionError(token.start + 1, `expected ${what}, found ${describe(token)}`);
    index += 1;
    return token;
  };

  const all: ClaimsComparison[] = [];
  for (;;) {
    expect("claims", (token) => token.kind === "word" && token.text === "claims");
    expect("'['", (token) => token.kind === "symbol" && token.text === "[");
    const claim = expect("a claim name in quotes, e.g. 'sub'", (token) => token.kind === "string");
    if (claim.text === "") throw new ClaimsExpressionError(claim.start + 1, "the claim name is empty");
    expect("']'", (token) => token.kind === "symbol" && token.text === "]");
    const operator = expect(
      "'eq' or 'matches'",
      (token) => token.kind === "word" && (token.text === "eq" || token.text === "matches"),
    );
    const value = expect("a value in quotes", (token) => token.kind === "string");
    all.push({ claim: claim.text, operator: operator.text as "eq" | "matches", value: value.text });
    if (peek().kind === "end") return { all };
    expect("'and' or the end of the expression", (token) => token.kind === "word" && token.text === "and");
  }
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const char = source[at] as string;
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === "[" || char === "]") {
      tokens.push({ kind: "symbol", text: char, start: at });
      at += 1;
    } else if (char === "'") {
      const start = at;
      let text = "";
      at += 1;
      for (;;) {
        const next = source[at];
        if (next === undefined)
          throw new ClaimsExpressionError(start + 1, "this string has no closing quote");
        if (next === "'") break;
        if (next === "\\") {
          const escaped = source[at + 1];
          if (escaped !== "'" && escaped !== "\\") {
            throw new ClaimsExpressionError(at + 1, "expected \\' or \\\\ after a backslash");
          }
          text += escaped;
          at += 2;
        } else {
          text += next;
          at += 1;
        }
      }
      tokens.push({ kind: "string", text, start });
      at += 1;
    } else if (/[A-Za-z]/.test(char)) {
      const start = at;
      while (at < source.length && /[A-Za-z]/.test(source[at] as string)) at += 1;
      tokens.push({ kind: "word", text: source.slice(start, at), start });
    } else {
      throw new ClaimsExpressionError(at + 1, `unexpected '${char}'`);
    }
  }
  tokens.push({ kind: "end", text: "", start: source.length });
  return tokens;
}

/** Whether the token's claims satisfy every comparison; a claim that is missing or not a string satisfies none. */
export function claimsMatch(
  expression: ClaimsExpression,
  claims: Readonly<Record<string, unknown>>,
): boolean {
  return expression.all.every(({ claim, operator, value }) => {
    const actual = Object.hasOwn(claims, claim) ? claims[claim] : undefined;
    if (typeof actual !== "string") return false;
    return operator === "eq" ? actual === value : wildcardMatches(value, actual);
  });
}

/** `*` matches any run of characters, `?` exactly one; everything else itself, case-sensitively. */
function wildcardMatches(pattern: string, text: string): boolean {
  // Iterative with one backtrack point: linear in practice, never exponential, whatever the pattern.
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p;
      resume = t;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p += 1;
  return p === pattern.length;
}
