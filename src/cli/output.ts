/** Prints a command's result as az does: indented JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and notes for people go to stderr, so stdout stays parseable. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** az's output shape for most resources: ARM `properties` merged into the top level, plus `resourceGroup`. */
export function flattenResource(resource: Record<string, unknown>): Record<string, unknown> {
  const { properties, ...rest } = resource as { properties?: Record<string, unknown>; id?: unknown };
  const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(String(rest.id ?? ""))?.[1];
  return { ...rest, ...properties, ...(resourceGroup ? { resourceGroup } : {}) };
}
