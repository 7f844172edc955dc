// The webhook's batched asynchronous log destination: a lone line still reaches the output without anyone
// flushing it, many batches arrive whole and in order, and what is still gathered when the process ends is
// written out.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { LOG_BATCH_CHARACTERS, webhookLogDestination } from "../../../src/cluster/webhook/log-destination.ts";
import { eventually } from "../../eventually.ts";

describe("webhook log destination", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wikit-log-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("a lone line, far smaller than a batch, reaches the file without an explicit flush", async () => {
    const file = join(dir, "lone.log");
    const destination = webhookLogDestination(file);
    pino(destination).info({ uid: "1" }, "admission");
    try {
      await eventually(async () => (await readFile(file, "utf8").catch(() => "")).includes('"uid":"1"'), {
        intervalMs: 20,
      });
    } finally {
      destination.end();
    }
  });

  test("lines over many batches arrive whole and in order; end() writes the rest", async () => {
    const file = join(dir, "many.log");
    const destination = webhookLogDestination(file);
    const logger = pino(destination);
    const count = 5 * Math.ceil(LOG_BATCH_CHARACTERS / 100);
    for (let i = 0; i < count; i += 1) logger.info({ i, padding: "x".repeat(i % 50) }, "admission");
    destination.end();
    let lines: string[] = [];
    await eventually(
      async () => {
        lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
        return lines.length >= count;
      },
      { intervalMs: 20 },
    );
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).i),
      Array.from({ length: count }, (_, i) => i),
    );
  });

  test("lines still gathered when the process exits are written out", async () => {
    const file = join(dir, "exit.log");
    const module = new URL("../../../src/cluster/webhook/log-destination.ts", import.meta.url).href;
    // A file descriptor that is open already, as stdout is for `wikit webhook serve`.
    const script = `
      import { openSync } from "node:fs";
      import { pino } from "pino";
      import { webhookLogDestination } from ${JSON.stringify(module)};
      const logger = pino(webhookLogDestination(openSync(${JSON.stringify(file)}, "w")));
      for (let i = 0; i < 3; i += 1) logger.info({ i }, "admission");
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: new URL("../../..", import.meta.url).pathname,
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).i),
      [0, 1, 2],
    );
  });
});
