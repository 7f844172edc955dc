// What sealing secret values at rest costs per value, against what the store already spends on each one: its JSON
// round trip (every stored secret version is a JSON body, serialized on write and parsed on read). Measured in the
// same run, alternating, on a value of `--bytes` (default 64, a typical password or connection string) and one of
// 25,000 bytes (Key Vault's largest value).
//
//   node bench/sealing.ts [--rounds 20000]

import { randomBytes } from "node:crypto";
import { openValue, type SecretKeyRing, sealValue } from "../src/store/sealed-secrets.ts";
import type { SecretVersion } from "../src/store/store.ts";
import { median, option } from "./load.ts";

const rounds = option("rounds", 20_000);
const ring: SecretKeyRing = { current: "k1", keys: new Map([["k1", randomBytes(32)]]) };

function secretOf(bytes: number): SecretVersion {
  return {
    vaultId:
      "/subscriptions/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    name: "db-password",
    version: "0123456789abcdef0123456789abcdef",
    value: randomBytes(bytes).toString("base64url").slice(0, bytes),
    tags: { env: "prd" },
    enabled: true,
    created: Date.now(),
    updated: Date.now(),
  };
}

/** Microseconds per call of `run`, the median of 5 batches. */
function perCall(run: () => unknown): number {
  const batches: number[] = [];
  for (let batch = 0; batch < 5; batch++) {
    const started = performance.now();
    for (let round = 0; round < rounds / 5; round++) run();
    batches.push(((performance.now() - started) * 1000) / (rounds / 5));
  }
  return median(batches);
}

for (const bytes of [option("bytes", 64), 25_000]) {
  const secret = secretOf(bytes);
  const sealed = { ...secret, value: sealValue(ring, secret) };
  const body = JSON.stringify(secret);
  perCall(() => openValue(ring, sealed)); // warm-up
  const json = perCall(() => JSON.parse(JSON.stringify(JSON.parse(body))));
  const seal = perCall(() => sealValue(ring, secret));
  const open = perCall(() => openValue(ring, sealed));
  console.log(
    `${bytes} bytes: JSON round trip ${json.toFixed(1)} µs, seal ${seal.toFixed(1)} µs (${(seal / json).toFixed(1)}×), open ${open.toFixed(1)} µs (${(open / json).toFixed(1)}×), sealed size ${sealed.value.length} characters`,
  );
}
