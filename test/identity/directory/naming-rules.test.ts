import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DirectoryError } from "../../../src/identity/directory/directory-error.ts";
import {
  checkApplicationCredentialName,
  checkFederatedCredentialName,
  checkIdentityName,
  checkResourceGroupName,
  checkVaultName,
  isGuid,
} from "../../../src/identity/directory/naming-rules.ts";

type Check = (name: string) => void;

function assertAccepted(check: Check, name: string): void {
  assert.doesNotThrow(() => check(name), `'${name}' should be accepted`);
}

function assertRejected(check: Check, name: string, code: string): void {
  assert.throws(
    () => check(name),
    (error: unknown) => {
      assert.ok(error instanceof DirectoryError, `'${name}' should be rejected with a DirectoryError`);
      assert.equal(error.status, 400);
      assert.equal(error.code, code);
      assert.ok(
        error.message.includes(`'${name}'`),
        `the message names the rejected value: ${error.message}`,
      );
      return true;
    },
    `'${name}' should be rejected`,
  );
}

describe("resource group names (ARM: 1-90 letters, digits, - _ . ( ), not ending in '.')", () => {
  const valid = ["a", "Apps-RG", "rg_1", "my.group", "(prod)", "x".repeat(90), "Grüne-Gruppe", "日本"];
  const invalid = ["", "x".repeat(91), "ends-with.", "has space", "slash/rg", "percent%", "star*", "rg#1"];
  for (const name of valid)
    test(`accepts '${name.slice(0, 20)}' (${name.length} chars)`, () =>
      assertAccepted(checkResourceGroupName, name));
  for (const name of invalid) {
    test(`rejects '${name.slice(0, 20)}' (${name.length} chars)`, () =>
      assertRejected(checkResourceGroupName, name, "InvalidResourceGroup"));
  }
});

describe("user-assigned identity names (3-128 letters, digits, - _, starting alphanumeric)", () => {
  const valid = ["abc", "id-1", "ID_2", "9lives", "a".repeat(128)];
  const invalid = ["ab", "a".repeat(129), "-leading", "_leading", "has.dot", "has space", "ü-nicode"];
  for (const name of valid)
    test(`accepts '${name.slice(0, 20)}'`, () => assertAccepted(checkIdentityName, name));
  for (const name of invalid) {
    test(`rejects '${name.slice(0, 20)}'`, () =>
      assertRejected(checkIdentityName, name, "InvalidResourceName"));
  }
});

describe("federated identity credential names (3-120 letters, digits, - _, starting alphanumeric)", () => {
  const valid = ["fic", "kubernetes-federated-credential", "F_1", "a".repeat(120)];
  const invalid = ["ab", "a".repeat(121), "-fic", "fic.1", "fic 1", "fic/1"];
  for (const name of valid)
    test(`accepts '${name.slice(0, 20)}'`, () => assertAccepted(checkFederatedCredentialName, name));
  for (const name of invalid) {
    test(`rejects '${name.slice(0, 20)}'`, () =>
      assertRejected(checkFederatedCredentialName, name, "BadRequest"));
  }
});

describe("app registration credential names (Graph: 3-120 URL-friendly characters, azwi's hashes included)", () => {
  // azwi's names are padded base64url SHA-256 hashes: one in 32 starts with '-' or '_'.
  const valid = [
    "fic",
    "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4=",
    "-y3pfWUdKH8mrTcrWW7Kn=",
    "_a=",
    "a".repeat(120),
  ];
  const invalid = ["ab", "a".repeat(121), "fic.1", "fic 1", "fic/1", "fic+1"];
  for (const name of valid)
    test(`accepts '${name.slice(0, 20)}'`, () => assertAccepted(checkApplicationCredentialName, name));
  for (const name of invalid) {
    test(`rejects '${name.slice(0, 20)}'`, () =>
      assertRejected(checkApplicationCredentialName, name, "BadRequest"));
  }
});

describe("vault names (DNS label: 3-24 alphanumerics and single hyphens, letter first, no trailing hyphen)", () => {
  const valid = ["kv1", "abc", "My-Vault", "a-b-c", "a".repeat(24), "k2345678901234567890123z"];
  const invalid = [
    "kv",
    "a".repeat(25),
    "1vault",
    "-vault",
    "vault-",
    "va--ult",
    "va_ult",
    "va.ult",
    "vault!",
  ];
  for (const name of valid) test(`accepts '${name}'`, () => assertAccepted(checkVaultName, name));
  for (const name of invalid) {
    test(`rejects '${name}'`, () => assertRejected(checkVaultName, name, "VaultNameNotValid"));
  }
});

describe("GUIDs", () => {
  test("accepts GUIDs in either case and nothing else", () => {
    assert.equal(isGuid("4633458b-17de-408a-b874-0445c86b69e6"), true);
    assert.equal(isGuid("4633458B-17DE-408A-B874-0445C86B69E6"), true);
    for (const value of [
      "",
      "4633458b17de408ab8740445c86b69e6",
      "{4633458b-17de-408a-b874-0445c86b69e6}",
      "4633458b-17de-408a-b874-0445c86b69e6 ",
      "4633458b-17de-408a-b874-0445c86b69eg",
      "x4633458b-17de-408a-b874-0445c86b69e6",
    ]) {
      assert.equal(isGuid(value), false, value);
    }
  });
});
