// The result of reading a user-supplied value: the value, or the error text the user sees.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
