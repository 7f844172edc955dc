import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { azwiHash } from "../../../src/cluster/service-accounts/azwi-names.ts";
import {
  armCredentialName,
  azwiServiceAccount,
  CREATE_CHECKS,
  CREATE_ORDER,
  type CreateSettings,
  chooseIdentity,
  computeSkipPhases,
  DELETE_CHECKS,
  DELETE_ORDER,
  type DeleteSettings,
  deleteSkips,
  PhaseError,
  type PhaseName,
  phaseCredential,
  phaseNamed,
  runPhases,
  splitSkipPhases,
} from "../../../src/cluster/service-accounts/azwi-phases.ts";
import {
  formatGoDuration,
  parseGoDuration,
  roundedSeconds,
} from "../../../src/cluster/service-accounts/go-duration.ts";

const ISSUER = "https://oidc.example.com/cluster-1/";
const HOUR = 3600e9;
const account = { namespace: "default", name: "azwi-sa", issuer: ISSUER };

describe("phases: order, names, aliases and --skip-phases", () => {
  test("create runs app, service account, credential, role; delete the reverse", () => {
    assert.deepEqual(CREATE_ORDER, [
      "aad-application",
      "service-account",
      "federated-identity",
      "role-assignment",
    ]);
    assert.deepEqual(DELETE_ORDER, [
      "role-assignment",
      "federated-identity",
      "service-account",
      "aad-application",
    ]);
  });

  test("`phase <name>` takes the names and azwi's aliases app, sa, fi, ra", () => {
    const expected: [string, PhaseName][] = [
      ["app", "aad-application"],
      ["sa", "service-account"],
      ["fi", "federated-identity"],
      ["ra", "role-assignment"],
      ["service-account", "service-account"],
    ];
    for (const [given, phase] of expected) assert.equal(phaseNamed(given), phase);
    assert.equal(phaseNamed("identity"), undefined);
  });

  test("--skip-phases is a string list: repeatable and comma-separated", () => {
    assert.deepEqual(splitSkipPhases(["role-assignment,federated-identity", "aad-application"]), [
      "role-assignment",
      "federated-identity",
      "aad-application",
    ]);
    assert.deepEqual(splitSkipPhases([""]), []);
  });

  test("an unknown skipped phase fails with azwi's text, listing the valid ones in the command's order", () => {
    assert.deepEqual(computeSkipPhases(CREATE_ORDER, ["role-assignment"]), new Set(["role-assignment"]));
    assert.throws(() => computeSkipPhases(CREATE_ORDER, ["sa"]), {
      message:
        "failed to compute skip phases: phase 'sa' not found. Valid phases are: [aad-application service-account federated-identity role-assignment]",
    });
    assert.throws(() => computeSkipPhases(DELETE_ORDER, ["nope"]), {
      message:
        "failed to compute skip phases: phase 'nope' not found. Valid phases are: [role-assignment federated-identity service-account aad-application]",
    });
  });

  test("delete skips the credential when it deletes the identity, not when the identity phase is skipped", () => {
    assert.deepEqual(deleteSkips(new Set()), new Set(["federated-identity"]));
    assert.deepEqual(deleteSkips(new Set(["aad-application"])), new Set(["aad-application"]));
  });
});

describe("runPhases: every pre-run before any run, azwi's wrapping, one line per phase", () => {
  const recorder = () => {
    const events: string[] = [];
    const phase = (name: string, failIn?: "preRun" | "run") => ({
      preRun: () => {
        events.push(`pre ${name}`);
        if (failIn === "preRun") throw new Error("--azure-scope is required");
      },
      run: async () => {
        events.push(`run ${name}`);
        if (failIn === "run") throw new Error("failed to add federated credential: boom");
        return `did ${name}`;
      },
    });
    return { events, phase };
  };

  test("pre-runs all come first, in order, then the runs; skipped phases neither pre-run nor run", async () => {
    const { events, phase } = recorder();
    const lines: string[] = [];
    await runPhases(
      CREATE_ORDER,
      {
        "aad-application": phase("app"),
        "service-account": phase("sa"),
        "federated-identity": phase("fi"),
        "role-assignment": phase("ra"),
      },
      new Set(["federated-identity"]),
      (line) => lines.push(line),
    );
    assert.deepEqual(events, ["pre app", "pre sa", "pre ra", "run app", "run sa", "run ra"]);
    assert.deepEqual(lines, [
      "federated-identity: skipped",
      "aad-application: did app",
      "service-account: did sa",
      "role-assignment: did ra",
    ]);
  });

  test("a failing pre-run of the last phase stops the command before anything runs", async () => {
    const { events, phase } = recorder();
    await assert.rejects(
      runPhases(
        CREATE_ORDER,
        { "aad-application": phase("app"), "role-assignment": phase("ra", "preRun") },
        new Set(),
        () => {},
      ),
      (error: Error) =>
        error instanceof PhaseError &&
        error.message === "failed to run pre-run for phase role-assignment: --azure-scope is required",
    );
    assert.deepEqual(events, ["pre app", "pre ra"]);
  });

  test("a failing run is wrapped with its phase and stops the phases after it", async () => {
    const { events, phase } = recorder();
    await assert.rejects(
      runPhases(
        CREATE_ORDER,
        { "federated-identity": phase("fi", "run"), "role-assignment": phase("ra") },
        new Set(),
        () => {},
      ),
      {
        message: "failed to run phase federated-identity: failed to add federated credential: boom",
      },
    );
    assert.deepEqual(events, ["pre fi", "pre ra", "run fi"]);
  });
});

describe("the identity the phases work on", () => {
  test("azwi's derived app name when none is given", () => {
    assert.deepEqual(chooseIdentity({}, account), {
      kind: "application",
      name: "default-azwi-sa-5Sf2UcOAcLiF3YdXsODxlIoffgTrfPOOo0nPssSDawY=",
      derived: true,
    });
    assert.equal(chooseIdentity({}, { ...account, issuer: undefined }), undefined);
    assert.equal(chooseIdentity({}, { ...account, name: "" }), undefined);
  });

  test("precedence: managed identity, app name, object ID, client ID alone, derived", () => {
    assert.deepEqual(
      chooseIdentity({ identityName: "mi", resourceGroup: "rg", aadApplicationClientId: "c" }, account),
      {
        kind: "managed-identity",
        name: "mi",
        resourceGroup: "rg",
      },
    );
    assert.deepEqual(chooseIdentity({ aadApplicationName: "app", aadApplicationClientId: "c" }, account), {
      kind: "application",
      name: "app",
      derived: false,
    });
    assert.deepEqual(chooseIdentity({ aadApplicationObjectId: "o", aadApplicationClientId: "c" }, account), {
      kind: "application-object-id",
      objectId: "o",
    });
    assert.deepEqual(chooseIdentity({ aadApplicationClientId: "c" }, account), {
      kind: "client-id",
      clientId: "c",
    });
  });

  test("a managed identity needs its group, and is not given together with an app", () => {
    assert.throws(() => chooseIdentity({ identityName: "mi" }, account), {
      message: "--identity-name needs -g/--resource-group: the group of managed identity 'mi'",
    });
    assert.throws(
      () => chooseIdentity({ identityName: "mi", resourceGroup: "rg", aadApplicationName: "a" }, account),
      {
        message: /give --identity-name \(a managed identity\) or --aad-application-name/,
      },
    );
  });
});

describe("per-phase flag checks: azwi's texts", () => {
  const create = (changes: Partial<CreateSettings>): CreateSettings => ({
    account,
    tokenExpiration: HOUR,
    identity: chooseIdentity({}, account),
    azureScope: "/subscriptions/s",
    azureRole: "Reader",
    singlePhase: false,
    ...changes,
  });
  const fails = (check: () => void, message: string) => assert.throws(check, { name: "PhaseError", message });

  test("aad-application needs a name", () => {
    fails(
      () => CREATE_CHECKS["aad-application"](create({ identity: undefined })),
      "--aad-application-name is required",
    );
    CREATE_CHECKS["aad-application"](create({}));
  });

  test("service-account needs namespace and name, and an expiration within [1h, 24h]", () => {
    const check = (changes: Partial<CreateSettings>) => () =>
      CREATE_CHECKS["service-account"](create(changes));
    fails(check({ account: { ...account, namespace: "" } }), "--service-account-namespace is required");
    fails(check({ account: { ...account, name: "" } }), "--service-account-name is required");
    fails(
      check({ tokenExpiration: HOUR - 1 }),
      "--service-account-token-expiration must be greater than or equal to 1h0m0s",
    );
    fails(
      check({ tokenExpiration: 24 * HOUR + 1e9 }),
      "--service-account-token-expiration must be less than or equal to 24h0m0s",
    );
    check({ tokenExpiration: HOUR })();
    check({ tokenExpiration: 24 * HOUR })();
  });

  test("federated-identity needs namespace, name and the issuer", () => {
    const check = (changes: Partial<CreateSettings>) => () =>
      CREATE_CHECKS["federated-identity"](create(changes));
    fails(check({ account: { ...account, issuer: undefined } }), "--service-account-issuer-url is required");
    fails(check({ account: { ...account, namespace: "" } }), "--service-account-namespace is required");
    check({})();
  });

  test("role-assignment needs scope, role and a principal; the whole command hints at skipping it", () => {
    const check = (changes: Partial<CreateSettings>) => () =>
      CREATE_CHECKS["role-assignment"](create(changes));
    fails(
      check({ azureScope: undefined }),
      "--azure-scope is required (to create the rest without a role assignment, add --skip-phases role-assignment)",
    );
    fails(
      check({ azureRole: undefined }),
      "--azure-role is required (to create the rest without a role assignment, add --skip-phases role-assignment)",
    );
    fails(check({ azureScope: undefined, singlePhase: true }), "--azure-scope is required");
    fails(
      check({ identity: undefined }),
      "--service-principal-name or --service-principal-object-id is required",
    );
    check({ identity: undefined, servicePrincipalObjectId: "p" })();
  });

  test("delete: the role assignment's ID, the credential's coordinates, the app's name or object ID", () => {
    const remove = (changes: Partial<DeleteSettings>): DeleteSettings => ({
      account,
      identity: chooseIdentity({}, account),
      roleAssignmentId: "/x",
      ...changes,
    });
    fails(
      () => DELETE_CHECKS["role-assignment"](remove({ roleAssignmentId: undefined })),
      "--role-assignment-id is required",
    );
    fails(
      () => DELETE_CHECKS["federated-identity"](remove({ account: { ...account, issuer: undefined } })),
      "--service-account-issuer-url is required",
    );
    fails(
      () => DELETE_CHECKS["service-account"](remove({ account: { ...account, name: "" } })),
      "--service-account-name is required",
    );
    fails(
      () => DELETE_CHECKS["aad-application"](remove({ identity: undefined })),
      "--aad-application-name or --aad-application-object-id is required",
    );
  });
});

describe("what the phases write", () => {
  test("the service account: client and tenant ID; no expiration annotation at the default hour", () => {
    assert.deepEqual(
      azwiServiceAccount({
        namespace: "ns",
        name: "sa",
        clientId: "c",
        tenantId: "t",
        tokenExpiration: HOUR,
      }),
      {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
          name: "sa",
          namespace: "ns",
          annotations: { "azure.workload.identity/client-id": "c", "azure.workload.identity/tenant-id": "t" },
        },
      },
    );
  });

  test("the expiration in whole seconds (rounded as Go rounds) when it is not an hour, annotations sorted", () => {
    const object = azwiServiceAccount({
      namespace: "ns",
      name: "sa",
      clientId: "c",
      tenantId: "t",
      tokenExpiration: parseGoDuration("90m0.5s"),
    });
    assert.deepEqual(Object.entries(object.metadata.annotations), [
      ["azure.workload.identity/client-id", "c"],
      ["azure.workload.identity/service-account-token-expiration", "5401"],
      ["azure.workload.identity/tenant-id", "t"],
    ]);
  });

  test("the app's credential: hashed name, subject, issuer verbatim, audience, description", () => {
    assert.deepEqual(phaseCredential(account, false), {
      name: "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4=",
      issuer: ISSUER,
      subject: "system:serviceaccount:default:azwi-sa",
      audiences: ["api://AzureADTokenExchange"],
      description: "Federated Service Account for default/azwi-sa",
    });
  });

  test("a managed identity's credential: the same hash, made a valid ARM name", () => {
    assert.equal(phaseCredential(account, true).name, "1sUs5TM-y3pfWUdKH8mrTcrWW7KnDERBF1z4t2li9c4");
    // Vectors whose hash starts with '-' and with '_'.
    const dash = phaseCredential({ ...account, name: "sa-0" }, true);
    assert.equal(azwiHash(`default-sa-0-${ISSUER}`), "-u4HEW_-AL4v0Ir4vF-plQt9c8p4M4kxx11kryY7Bgs=");
    assert.equal(dash.name, "fic-u4HEW_-AL4v0Ir4vF-plQt9c8p4M4kxx11kryY7Bgs");
    assert.equal(
      phaseCredential({ ...account, name: "sa-60" }, true).name,
      "fic_eoA95uX56BmWNIzq9P1bIuL_QPYgNI68YsPNiEcjm4",
    );
  });

  test("every ARM name is valid for ARM, and distinct hashes give distinct names", () => {
    const armName = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const [first, second] = [armCredentialName(azwiHash(a)), armCredentialName(azwiHash(b))];
        assert.match(first, armName);
        if (azwiHash(a) !== azwiHash(b)) assert.notEqual(first, second);
      }),
    );
  });
});

describe("Go durations, as --service-account-token-expiration takes them", () => {
  test("the forms azwi users write", () => {
    for (const [text, nanoseconds] of [
      ["1h0m0s", HOUR],
      ["90m", 1.5 * HOUR],
      ["1.5h", 1.5 * HOUR],
      ["24h", 24 * HOUR],
      ["3600s", HOUR],
      ["1h30m", 1.5 * HOUR],
      ["0", 0],
      ["-1h", -HOUR],
      ["500ms", 5e8],
      ["2µs", 2000],
      [".5h", 0.5 * HOUR],
    ] as const) {
      assert.equal(parseGoDuration(text), nanoseconds, text);
    }
  });

  test("Go's error texts", () => {
    assert.throws(() => parseGoDuration("1"), { message: 'time: missing unit in duration "1"' });
    assert.throws(() => parseGoDuration("1d"), { message: 'time: unknown unit "d" in duration "1d"' });
    assert.throws(() => parseGoDuration(""), { message: 'time: invalid duration ""' });
    assert.throws(() => parseGoDuration("h"), { message: 'time: invalid duration "h"' });
    assert.throws(() => parseGoDuration("."), { message: 'time: invalid duration "."' });
  });

  test("printed as Go prints them, rounded to seconds as Go rounds", () => {
    assert.equal(formatGoDuration(HOUR), "1h0m0s");
    assert.equal(formatGoDuration(24 * HOUR), "24h0m0s");
    assert.equal(formatGoDuration(90e9), "1m30s");
    assert.equal(formatGoDuration(0), "0s");
    assert.equal(roundedSeconds(1.5e9), 2);
    assert.equal(roundedSeconds(1.4999e9), 1);
  });
});
