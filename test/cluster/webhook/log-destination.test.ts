// The webhook's batched asynchronous log destination: a lone line still reaches the output without anyone
// flushing it, and what is still gathered when the process ends is written out.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { webhookLogDestination } from "../../../src/cluster/webhook/log-destination.ts";

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
      // Polls; the test runner's timeout bounds the wait.
      while (!(await readFile(file, "utf8").catch(() => "")).includes('"uid":"1"')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      destination.end();
    }
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
