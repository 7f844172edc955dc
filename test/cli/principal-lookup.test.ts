// Which identity an ID or name means: the client-ID/principal-ID mix-up named, --assignee as az takes it, and a
// scope that is not a resource ID refused with what it should be.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CliError } from "../../src/cli/cli-error.ts";
import {
  checkClientId,
  checkPrincipalId,
  checkScope,
  type IdentitySummary,
  resolveAssignee,
} from "../../src/cli/principal-lookup.ts";

const API: IdentitySummary = {
  name: "api",
  resourceGroup: "rg1",
  clientId: "0a8ca96d-78ef-4740-85be-2fe24206c16c",
  principalId: "5f3c2a10-1111-4000-8000-000000000002",
};
const TWIN: IdentitySummary = {
  ...API,
  resourceGroup: "rg2",
  clientId: "1b9db07e-0000-4000-8000-000000000003",
  principalId: "6a4d3b21-0000-4000-8000-000000000004",
};
const IDENTITIES = [API];

const refusal = (pattern: RegExp) => (error: unknown) =>
  error instanceof CliError && pattern.test(error.message);

describe("principal IDs and client IDs", () => {
  test("a client ID given as a principal ID is named, with the principal ID to use", () => {
    assert.throws(
      () => checkPrincipalId("--assignee-object-id", API.clientId, IDENTITIES),
      refusal(
        /^'0a8ca96d-.*' is the client ID of identity 'api' \(group 'rg1'\); --assignee-object-id takes its principal \(object\) ID, 5f3c2a10-1111-4000-8000-000000000002\.$/,
      ),
    );
    assert.equal(checkPrincipalId("--assignee-object-id", API.principalId, IDENTITIES), API.principalId);
  });

  test("a principal ID given as a client ID is named, with the client ID to use", () => {
    assert.throws(
      () => checkClientId("--client-id", API.principalId, IDENTITIES),
      refusal(
        /is the principal \(object\) ID of identity 'api' \(group 'rg1'\); --client-id takes its client ID, 0a8ca96d-/,
      ),
    );
    assert.equal(checkClientId("--client-id", API.clientId, IDENTITIES), API.clientId);
  });

  test("an ID of no identity here is taken as given (it may be another tenant's)", () => {
    const foreign = "9d8c7b6a-0000-4000-8000-000000000009";
    assert.equal(checkPrincipalId("--assignee-object-id", foreign, IDENTITIES), foreign);
    assert.equal(checkClientId("--client-id", foreign, IDENTITIES), foreign);
  });

  test("something that is not a GUID is refused as such", () => {
    assert.throws(
      () => checkClientId("--client-id", "api", IDENTITIES),
      refusal(/--client-id takes a client ID, a GUID; 'api' is not one/),
    );
    assert.throws(
      () => checkPrincipalId("--assignee-object-id", "api", IDENTITIES),
      refusal(/a GUID; 'api' is not one/),
    );
  });
});

describe("--assignee", () => {
  test("takes a principal ID, a client ID or a name", () => {
    assert.equal(resolveAssignee(API.principalId, IDENTITIES), API.principalId);
    assert.equal(resolveAssignee(API.clientId.toUpperCase(), IDENTITIES), API.principalId);
    assert.equal(resolveAssignee("API", IDENTITIES), API.principalId);
  });

  test("a name two principals share, or none has, is refused with what to do", () => {
    assert.throws(
      () => resolveAssignee("api", [API, TWIN]),
      refusal(
        /2 principals are named 'api' \(identity 'api' \(group 'rg1'\), identity 'api' \(group 'rg2'\)\)/,
      ),
    );
    assert.throws(
      () => resolveAssignee("nobody", IDENTITIES),
      refusal(/No identity or service principal is named 'nobody'/),
    );
  });

  test("a service principal is found by its app ID and its app's name, and named as such in mix-ups", () => {
    const sp = {
      name: "wi-demo",
      clientId: "5f0c1e2d-0000-4000-8000-00000000000a",
      principalId: "5f0c1e2d-0000-4000-8000-00000000000b",
    };
    assert.equal(resolveAssignee(sp.clientId, [...IDENTITIES, sp]), sp.principalId);
    assert.equal(resolveAssignee("wi-demo", [...IDENTITIES, sp]), sp.principalId);
    assert.throws(
      () => checkPrincipalId("--assignee-object-id", sp.clientId, [sp]),
      refusal(/is the client ID of the service principal of app 'wi-demo'/),
    );
  });
});

describe("--scope", () => {
  for (const scope of [
    "/subscriptions/929d7a1b-0000-4000-8000-000000000001",
    "/subscriptions/929d7a1b-0000-4000-8000-000000000001/resourceGroups/rg1",
    "/subscriptions/929d7a1b-0000-4000-8000-000000000001/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1",
    "/subscriptions/929d7a1b-0000-4000-8000-000000000001/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1/secrets/s",
  ]) {
    test(`${scope.split("/").slice(-2).join("/")} is a scope`, () => assert.equal(checkScope(scope), scope));
  }
  for (const scope of [
    "kv1",
    "rg1",
    "subscriptions/x",
    "/resourceGroups/rg1",
    "https://kv1.vault.localhost/",
  ]) {
    test(`'${scope}' is refused with an example of a resource ID`, () =>
      assert.throws(
        () => checkScope(scope),
        refusal(/^--scope takes a resource ID, e\.g\. \/subscriptions\/\{id\}\/resourceGroups\/\{group\}/),
      ));
  }
});
