import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  azwiFederatedCredential,
  azwiHash,
  derivedApplicationName,
} from "../../../src/cluster/service-accounts/azwi-names.ts";

const ISSUER = "https://oidc.example.com/cluster-1/";

describe("azwi's derived names (the reference's vectors)", () => {
  test("the issuer's hash and the app display name", () => {
    assert.equal(azwiHash(ISSUER), "5Sf2UcOAcLiF3YdXsODxlIoffgTrfPOOo0nPssSDawY=");
    assert.equal(
      derivedApplicationName("default", "azwi-sa", ISSUER),
      "default-azwi-sa-5Sf2UcOAcLiF3YdXsODxlIoffgTrfPOOo0nPssSDawY=",
    );
  });

  test("the federated credential: hashed name, subject, issuer verbatim, audience, description", () => {
    assert.deepEqual(azwiFederatedCredential("default", "azwi-sa", ISSUER), {
      name: "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4=",
      issuer: ISSUER,
      subject: "system:serviceaccount:default:azwi-sa",
      audiences: ["api://AzureADTokenExchange"],
      description: "Federated Service Account for default/azwi-sa",
    });
  });

  test("the hash is base64url with padding: '-' and '_', 44 characters ending in '='", () => {
    for (const text of ["a", "b/c+d", ISSUER.repeat(3)]) {
      const hash = azwiHash(text);
      assert.match(hash, /^[A-Za-z0-9_-]{43}=$/);
    }
  });
});
