import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { createCertificateAuthority, issueServingCertificate } from "../../src/pki/certificates.ts";
import { createHttpsApp } from "../../src/server/https-app.ts";
import { StoreUnavailableError } from "../../src/store/store-unavailable-error.ts";

describe("the HTTPS app wikit up and wikit serve share", () => {
  test("a store outage is a 503 with Retry-After, any other fault a 500 that names nothing inside", async () => {
    const ca = await createCertificateAuthority("test CA", 1);
    const lines: string[] = [];
    const app = createHttpsApp({
      tls: await issueServingCertificate(ca, ["localhost"], 1),
      logStream: new Writable({
        write(chunk, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    app.get("/outage", async () => {
      throw new StoreUnavailableError("PostgreSQL at db:5432/wikit is unavailable: connect ECONNREFUSED");
    });
    app.get("/bug", async () => {
      throw new Error("internal detail");
    });
    const outage = await app.inject({ url: "/outage" });
    assert.equal(outage.statusCode, 503);
    assert.equal(outage.headers["retry-after"], "2");
    assert.equal(outage.json().error.code, "ServiceUnavailable");
    const bug = await app.inject({ url: "/bug" });
    assert.equal(bug.statusCode, 500);
    assert.doesNotMatch(bug.body, /internal detail/);
    assert.ok(lines.some((line) => line.includes("store unavailable")));
    assert.ok(
      lines.some((line) => line.includes("internal detail")),
      "the fault is logged for the operator",
    );
    await app.close();
  });
});
