// The local CA in the data directory: its files end with a newline, so that `cat ca.crt >> bundle.pem` makes a
// valid bundle, and one written without it by an earlier wikit is mended, keeping the same certificate.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadLocalTls } from "../../src/server/tls/local-ca.ts";

test("every PEM file the local CA writes ends with a newline", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wikit-ca-"));
  try {
    const tls = await loadLocalTls(dir, ["localhost"]);
    for (const name of ["ca.crt", "ca.key", "tls.crt", "tls.key"]) {
      assert.ok((await readFile(join(dir, name), "utf8")).endsWith("-----\n"), name);
    }
    assert.equal(await readFile(tls.caFile, "utf8"), tls.ca.certPem);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a CA certificate saved without its final newline is mended, the certificate kept", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wikit-ca-"));
  try {
    const first = await loadLocalTls(dir, ["localhost"]);
    await writeFile(first.caFile, first.ca.certPem.trimEnd());
    const again = await loadLocalTls(dir, ["localhost"]);
    assert.equal(await readFile(again.caFile, "utf8"), first.ca.certPem);
    assert.equal(again.serving.certPem, first.serving.certPem, "the serving certificate is still current");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
