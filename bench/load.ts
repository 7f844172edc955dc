// What the HTTPS benchmarks share: their numeric options, the closed-loop load and the statistics they report.

import type * as https from "node:https";

/** `--name N` from the command line: a positive number, else `fallback`. */
export function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? Number.NaN : Number(process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export interface Sample {
  ok: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
}

/**
 * Closed loop: `connections` requests in flight for `seconds` over one keep-alive agent, after `warmup` requests
 * (connections opened, the JIT settled) that `onWarm` follows. `send` resolves whether the request succeeded.
 */
export async function closedLoop(
  agent: https.Agent,
  send: () => Promise<boolean>,
  { connections, seconds, warmup }: { connections: number; seconds: number; warmup: number },
  onWarm: () => Promise<void>,
): Promise<Sample> {
  await Promise.all(Array.from({ length: warmup }, send));
  await onWarm();
  const latenciesMs: number[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      if (await send()) ok += 1;
      else failed += 1;
      latenciesMs.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { ok, failed, seconds: elapsed, latenciesMs };
}

/**
 * Open loop: `perSecond` requests a second for `seconds`, each sent when due whatever the others are doing, so that
 * a slow answer delays no later request. `send` is given the request's index; its latency lands at that index.
 */
export async function openLoop(
  send: (index: number) => Promise<boolean>,
  { perSecond, seconds }: { perSecond: number; seconds: number },
): Promise<Sample> {
  const total = Math.round(perSecond * seconds);
  const interval = 1000 / perSecond;
  const latenciesMs: number[] = new Array(total);
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + index * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Latency counts from when the request was due, so that the client's own lateness is not hidden — or from
    // when it was sent, if the timer fired early (timers round delays down to whole milliseconds).
    const start = Math.min(due, performance.now());
    inFlight.push(
      send(index).then((success) => {
        if (success) ok += 1;
        else failed += 1;
        latenciesMs[index] = performance.now() - start;
      }),
    );
  }
  await Promise.all(inFlight);
  return { ok, failed, seconds: (performance.now() - started) / 1000, latenciesMs };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
