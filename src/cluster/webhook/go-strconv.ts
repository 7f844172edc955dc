// Go's strconv.ParseInt as the upstream webhook runs it on annotation values, so that a bad value is refused
// with the same error text (quoting included) that users of the upstream webhook see.

import type { Parsed } from "./parsed.ts";

/**
 * Base-10 integer with Go's strconv.ParseInt grammar and error texts: an optional sign, then ASCII digits
 * only. Like Go, an overflow is reported as soon as it happens, even if an invalid character follows.
 */
export function parseGoInt(input: string, bitSize: 32 | 64): Parsed<bigint> {
  const failure = (reason: string): Parsed<bigint> => ({
    ok: false,
    error: `strconv.ParseInt: parsing ${goQuote(input)}: ${reason}`,
  });
  const negative = input.startsWith("-");
  const digits = /^[+-]/.test(input) ? input.slice(1) : input;
  if (digits === "") return failure("invalid syntax");
  // The usual case: few enough digits that a double holds them exactly and no bit size can overflow.
  if (digits.length <= 9 && /^[0-9]+$/.test(digits)) {
    const magnitude = BigInt(Number(digits));
    return { ok: true, value: negative ? -magnitude : magnitude };
  }
  const unsignedMax = (1n << BigInt(bitSize)) - 1n;
  let magnitude = 0n;
  for (const char of digits) {
    if (char < "0" || char > "9") return failure("invalid syntax");
    magnitude = magnitude * 10n + BigInt(char);
    if (magnitude > unsignedMax) return failure("value out of range");
  }
  const signedLimit = 1n << BigInt(bitSize - 1);
  if (negative ? magnitude > signedLimit : magnitude >= signedLimit) return failure("value out of range");
  return { ok: true, value: negative ? -magnitude : magnitude };
}

const GO_NAMED_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  '"': '\\"',
  "\\": "\\\\",
};

/** Go's strconv.Quote: printable runes (letters, marks, numbers, punctuation, symbols, space) stay as is. */
function goQuote(input: string): string {
  let quoted = "";
  for (const char of input) quoted += GO_NAMED_ESCAPES[char] ?? goEscapeRune(char);
  return `"${quoted}"`;
}

function goEscapeRune(char: string): string {
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  // A lone surrogate reaches Go as U+FFFD, which is printable.
  if (code >= 0xd800 && code <= 0xdfff) return "\ufffd";
  return code < 0x10000
    ? `\\u${code.toString(16).padStart(4, "0")}`
    : `\\U${code.toString(16).padStart(8, "0")}`;
}
