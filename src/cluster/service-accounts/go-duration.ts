// Go's duration syntax (time.ParseDuration and Duration.String), as azwi's `--service-account-token-expiration`
// takes and prints it: "1h0m0s", "90m", "1.5h", "3600s". Scripts written for azwi pass the same values to wikit.
// Pure.

const NANOSECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek small letter mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's largest duration, about 292 years; anything longer does not parse. */
const MAX_NANOSECONDS = 2 ** 63 - 1;

/** A duration Go would refuse; the message is Go's `time: …` text. */
export class GoDurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoDurationError";
  }
}

/** Go's %q of a string, for the plain ASCII values users type. */
function quoted(text: string): string {
  return JSON.stringify(text);
}

/** Parses a Go duration into nanoseconds, or throws GoDurationError with Go's text. */
export function parseGoDuration(text: string): number {
  const invalid = () => new GoDurationError(`time: invalid duration ${quoted(text)}`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  while (rest !== "") {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest);
    const whole = number?.[1] ?? "";
    const fraction = number?.[2] ?? "";
    if (whole === "" && fraction === "") throw invalid();
    rest = rest.slice(number?.[0].length ?? 0);
    const unit = /^[^.\d]*/.exec(rest)?.[0] ?? "";
    if (unit === "") throw new GoDurationError(`time: missing unit in duration ${quoted(text)}`);
    const scale = NANOSECONDS_PER_UNIT[unit];
    if (scale === undefined) {
      throw new GoDurationError(`time: unknown unit ${quoted(unit)} in duration ${quoted(text)}`);
    }
    rest = rest.slice(unit.length);
    total += Number(whole || "0") * scale + (fraction ? Number(`0.${fraction}`) * scale : 0);
    if (total > MAX_NANOSECONDS) throw invalid();
  }
  return sign * Math.round(total);
}

/** Go's Duration.String for whole-second durations: "1h0m0s", "24h0m0s", "1m30s", "45s", "0s". */
export function formatGoDuration(nanoseconds: number): string {
  const negative = nanoseconds < 0;
  const seconds = Math.round(Math.abs(nanoseconds) / 1e9);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const text = hours > 0 ? `${hours}h${minutes}m${rest}s` : minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
  return negative && seconds > 0 ? `-${text}` : text;
}

/** Whole seconds, rounded half away from zero as Go's Duration.Round(time.Second) does. */
export function roundedSeconds(nanoseconds: number): number {
  const seconds = Math.abs(nanoseconds) / 1e9;
  return Math.sign(nanoseconds) * Math.floor(seconds + 0.5);
}
