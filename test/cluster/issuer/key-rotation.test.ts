// The signing-key rotation machine (kubernetes.md §2.5) through every step with an injected clock: waits refused
// with the time left, --force, the lifetime limit, the state file, and a run interrupted after any single file
// operation finished by the next run. The directory is modelled file by file, with the adapter's order of
// operations (a public key moved before its private key), so every point a crash can hit is tried.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { apiServerFlags } from "../../../src/cluster/issuer/issuer-files.ts";
import {
  apiServerKeyFilesAt,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  formatDuration,
  IDLE,
  nextAction,
  type ObservedFiles,
  parseRotationState,
  type RotationAction,
  RotationError,
  type RotationSettings,
  type RotationState,
  serializeRotationState,
  signingKidAt,
} from "../../../src/cluster/issuer/key-rotation.ts";

const MAX_AGE = 300;
const SETTINGS: RotationSettings = { maxAgeSeconds: MAX_AGE };
const T0 = Date.parse("2026-03-01T12:00:00Z");
const seconds = (n: number) => n * 1000;

/** An issuer directory as files: each key file holds one key (by kid), the JWKS holds a list of kids. */
class ModelDirectory {
  files = new Map<string, string>([
    ["sa.key", "old"],
    ["sa.pub", "old"],
  ]);
  jwks: string[] = ["old"];
  state: RotationState = IDLE;
  generated = 0;
  /** File operations done; the model "crashes" (throws) when it reaches `crashAt`. */
  operations = 0;
  crashAt = Number.POSITIVE_INFINITY;

  observe(): ObservedFiles {
    return {
      current: { keyKid: this.files.get("sa.key"), pubKid: this.files.get("sa.pub") },
      next: { keyKid: this.files.get("sa-next.key"), pubKid: this.files.get("sa-next.pub") },
      currentKeyType: this.files.has("sa.key") ? "rsa" : undefined,
      publishedKids: [...this.jwks],
    };
  }

  /** The recorded state, read afresh (assertions on `state` would narrow it for the rest of a test). */
  current(): RotationState {
    return this.state;
  }

  snapshot() {
    return { files: [...this.files].sort(), jwks: [...this.jwks], state: this.state };
  }

  #operation(change: () => void): void {
    if (this.operations === this.crashAt) throw new Error("crash");
    this.operations++;
    change();
  }

  #move(from: string, to: string): void {
    const kid = this.files.get(from);
    if (kid === undefined) return;
    this.#operation(() => {
      this.files.delete(from);
      this.files.set(to, kid);
    });
  }

  /** What the adapter does for each action, one durable file operation at a time. */
  apply(action: RotationAction): void {
    switch (action.kind) {
      case "generate-next-key":
        this.#operation(() => {
          this.generated++;
          this.files.set("sa-next.key", `new${this.generated}`);
        });
        return;
      case "write-public-key": {
        const [key, pub] = action.slot === "current" ? ["sa.key", "sa.pub"] : ["sa-next.key", "sa-next.pub"];
        const kid = this.files.get(key);
        if (kid !== undefined) this.#operation(() => this.files.set(pub, kid));
        return;
      }
      case "publish":
        this.#operation(() => {
          this.jwks = [...action.kids];
        });
        return;
      case "retire-current-key":
        this.#move("sa.pub", `retired/${action.kid}.pub`);
        this.#move("sa.key", `retired/${action.kid}.key`);
        return;
      case "promote-next-key":
        this.#move("sa-next.pub", "sa.pub");
        this.#move("sa-next.key", "sa.key");
        return;
      case "record":
        this.#operation(() => {
          this.state = action.state;
        });
        return;
      default:
        throw new Error(`${action.kind} is not a file action`);
    }
  }

  /** One `wikit issuer rotate`: actions until the state is recorded; a wait or conflict is returned instead. */
  run(now: number, settings: RotationSettings = SETTINGS): RotationAction | undefined {
    for (let round = 0; round < 20; round++) {
      const action = nextAction(this.state, this.observe(), now, settings);
      if (action.kind === "wait" || action.kind === "conflict") return action;
      this.apply(action);
      if (action.kind === "record") return undefined;
    }
    throw new Error("no progress");
  }
}

/** The times each step becomes due in an unforced rotation with the default lifetime. */
const PUBLISHED_AT = T0;
const SWITCHED_AT = PUBLISHED_AT + seconds(MAX_AGE);
const RETIRING_AT = SWITCHED_AT + seconds(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + MAX_AGE);
const DONE_AT = RETIRING_AT + seconds(MAX_AGE);
const STEP_TIMES = [PUBLISHED_AT, SWITCHED_AT, RETIRING_AT, DONE_AT];

function assertWait(action: RotationAction | undefined, step: string, left: string): void {
  assert.equal(action?.kind, "wait", `expected a wait, got ${JSON.stringify(action)}`);
  assert.ok(action?.kind === "wait");
  assert.equal(action.step, step);
  assert.match(action.message, new RegExp(`the next step, ${step === "idle" ? "done" : step}, is due at`));
  assert.ok(action.message.includes(`(in ${left})`), action.message);
  assert.match(action.message, /--force takes the step now, which is dangerous/);
}

describe("signing-key rotation", () => {
  test("every step in order: the keys published and signing, the apiserver's key files, and each wait", () => {
    const dir = new ModelDirectory();
    assert.equal(signingKidAt(dir.state, dir.observe()), "old");
    assert.deepEqual(apiServerKeyFilesAt("idle"), { signingKey: "sa.key", publicKeys: ["sa.pub"] });

    // idle → published: at once. The next key is made and published beside the old one, which still signs.
    assert.equal(dir.run(PUBLISHED_AT), undefined);
    assert.equal(dir.current().step, "published");
    assert.deepEqual(dir.jwks, ["old", "new1"]);
    assert.equal(dir.files.get("sa-next.pub"), "new1");
    assert.equal(signingKidAt(dir.state, dir.observe()), "old");
    assert.deepEqual(apiServerKeyFilesAt("published"), { signingKey: "sa.key", publicKeys: ["sa.pub"] });

    // published → signing: after the documents' max-age; one second early is refused, saying so.
    assertWait(dir.run(SWITCHED_AT - seconds(1)), "signing", "1s");
    assertWait(dir.run(PUBLISHED_AT + seconds(60)), "signing", "4m");
    assert.equal(dir.run(SWITCHED_AT), undefined);
    assert.equal(dir.current().step, "signing");
    assert.deepEqual(dir.jwks, ["old", "new1"], "the old key stays published");
    assert.equal(signingKidAt(dir.state, dir.observe()), "new1");
    assert.deepEqual(apiServerKeyFilesAt("signing"), {
      signingKey: "sa-next.key",
      publicKeys: ["sa.pub", "sa-next.pub"],
    });

    // signing → retiring: after the longest token lifetime plus max-age since the switch.
    assertWait(dir.run(SWITCHED_AT + seconds(3600)), "retiring", "23h 5m");
    assertWait(dir.run(RETIRING_AT - seconds(1)), "retiring", "1s");
    assert.equal(dir.run(RETIRING_AT), undefined);
    assert.equal(dir.current().step, "retiring");
    assert.deepEqual(dir.jwks, ["new1"], "the old key is no longer published");
    assert.equal(dir.files.get("sa.key"), "old", "its files stay until the last step");
    assert.deepEqual(apiServerKeyFilesAt("retiring"), apiServerKeyFilesAt("signing"));

    // retiring → done: after max-age again. The old key goes to retired/, the new one takes sa.key's place.
    assertWait(dir.run(DONE_AT - seconds(1)), "idle", "1s");
    assert.equal(dir.run(DONE_AT), undefined);
    assert.deepEqual(dir.state, {
      step: "idle",
      lastRotation: { completedAt: new Date(DONE_AT).toISOString(), retiredKid: "old", signingKid: "new1" },
    });
    assert.deepEqual(dir.snapshot().files, [
      ["retired/old.key", "old"],
      ["retired/old.pub", "old"],
      ["sa.key", "new1"],
      ["sa.pub", "new1"],
    ]);
    assert.deepEqual(dir.jwks, ["new1"]);
    assert.equal(signingKidAt(dir.state, dir.observe()), "new1");

    // A further run starts the next rotation, from the key the last one made.
    assert.equal(dir.run(DONE_AT + seconds(1)), undefined);
    assert.equal(dir.current().step, "published");
    const next = dir.current();
    assert.ok(next.step === "published" && next.oldKid === "new1" && next.newKid === "new2");
  });

  test("re-running a step that is finished changes nothing: the next one is not due yet", () => {
    const dir = new ModelDirectory();
    for (const [index, time] of STEP_TIMES.slice(0, 3).entries()) {
      assert.equal(dir.run(time), undefined);
      const before = dir.snapshot();
      const operations = dir.operations;
      const again = dir.run(time);
      assert.equal(again?.kind, "wait", `step ${index + 1} re-run`);
      assert.deepEqual(dir.snapshot(), before);
      assert.equal(dir.operations, operations, "not one file touched");
    }
    assert.equal(dir.generated, 1);
  });

  test("--force takes each step before it is due; without it the same run is refused", () => {
    const dir = new ModelDirectory();
    const force = { ...SETTINGS, force: true };
    assert.equal(dir.run(T0), undefined);
    for (const step of ["signing", "retiring", "idle"]) {
      assert.equal(dir.run(T0 + seconds(1))?.kind, "wait");
      assert.equal(dir.run(T0 + seconds(1), force), undefined);
      assert.equal(dir.current().step, step);
    }
    assert.deepEqual(dir.jwks, ["new1"]);
    assert.equal(dir.files.get("sa.key"), "new1");
  });

  test("the lifetime limit: given when the rotation begins it is recorded; given later it overrides", () => {
    const dir = new ModelDirectory();
    const hour = { ...SETTINGS, maxTokenLifetimeSeconds: 3600 };
    assert.equal(dir.run(T0, hour), undefined);
    const published = dir.current();
    assert.ok(published.step === "published" && published.maxTokenLifetimeSeconds === 3600);
    assert.equal(dir.run(SWITCHED_AT), undefined);
    const retireAt = SWITCHED_AT + seconds(3600 + MAX_AGE);
    assertWait(dir.run(retireAt - seconds(1)), "retiring", "1s");
    // A longer limit named now moves the step later, though the recorded one has passed.
    assertWait(dir.run(retireAt, { ...SETTINGS, maxTokenLifetimeSeconds: 48 * 3600 }), "retiring", "1d 23h");
    assert.equal(dir.run(retireAt), undefined);
    assert.equal(dir.current().step, "retiring");
  });

  test("a run interrupted after any file operation of any step is finished by the next run, as if never interrupted", () => {
    const reference = new ModelDirectory();
    const afterStep = STEP_TIMES.map((time) => {
      assert.equal(reference.run(time), undefined);
      return reference.snapshot();
    });
    for (const [stepIndex, time] of STEP_TIMES.entries()) {
      for (let crashAt = 0; ; crashAt++) {
        const dir = new ModelDirectory();
        for (const earlier of STEP_TIMES.slice(0, stepIndex)) assert.equal(dir.run(earlier), undefined);
        dir.crashAt = dir.operations + crashAt;
        let crashed = false;
        try {
          dir.run(time);
        } catch (error) {
          assert.equal((error as Error).message, "crash");
          crashed = true;
        }
        dir.crashAt = Number.POSITIVE_INFINITY;
        if (!crashed) break; // every operation of the step has been tried
        // The files are written, the state is not: the re-run finishes the step, at the same time or later.
        assert.equal(dir.run(time + seconds(1)), undefined, `step ${stepIndex + 1}, crash at ${crashAt}`);
        const finished = dir.snapshot();
        const expected = afterStep[stepIndex];
        assert.deepEqual(finished.files, expected?.files, `step ${stepIndex + 1}, crash at ${crashAt}`);
        assert.deepEqual(finished.jwks, expected?.jwks);
        assert.equal(finished.state.step, expected?.state.step);
        assert.equal(dir.generated, 1, "an interrupted run's key is taken, not made again");
      }
    }
  });

  test("a step begun with --force and interrupted is finished by a run without it", () => {
    const dir = new ModelDirectory();
    for (const time of STEP_TIMES.slice(0, 3)) assert.equal(dir.run(time), undefined);
    dir.crashAt = dir.operations + 1; // after the old key's public file moved to retired/
    assert.throws(() => dir.run(RETIRING_AT + seconds(1), { ...SETTINGS, force: true }), /crash/);
    dir.crashAt = Number.POSITIVE_INFINITY;
    assert.equal(dir.run(RETIRING_AT + seconds(2)), undefined);
    assert.equal(dir.current().step, "idle");
    assert.equal(dir.files.get("sa.key"), "new1");
  });

  test("files that contradict the state are a conflict that names the fix, not a guess", () => {
    const empty = new ModelDirectory();
    empty.files.clear();
    const missing = empty.run(T0);
    assert.ok(missing?.kind === "conflict");
    assert.match(missing.message, /no sa\.key to rotate: run `wikit issuer init` first/);

    const dir = new ModelDirectory();
    assert.equal(dir.run(T0), undefined);
    dir.files.delete("sa-next.key");
    const lost = dir.run(SWITCHED_AT);
    assert.ok(lost?.kind === "conflict");
    assert.match(
      lost.message,
      /expects sa\.key to be old and sa-next\.key to be new1, but sa\.key is old and sa-next\.key is missing/,
    );
    assert.match(lost.message, /remove rotation\.json and sa-next\.key to abandon the rotation/);
  });

  test("a public key file lost or left over is rewritten from its private key", () => {
    const dir = new ModelDirectory();
    assert.equal(dir.run(T0), undefined);
    dir.files.delete("sa-next.pub");
    dir.files.set("sa.pub", "stale");
    assert.equal(dir.run(SWITCHED_AT), undefined);
    assert.equal(dir.files.get("sa-next.pub"), "new1");
    assert.equal(dir.files.get("sa.pub"), "old");
  });

  test("documents changed by hand are republished by the step they belong to", () => {
    const dir = new ModelDirectory();
    assert.equal(dir.run(T0), undefined);
    dir.jwks = ["old"];
    assert.deepEqual(nextAction(dir.state, dir.observe(), T0, SETTINGS), {
      kind: "publish",
      kids: ["old", "new1"],
    });
  });

  test("the state file round-trips every step, and a damaged one is named with the fix", () => {
    const dir = new ModelDirectory();
    const states: RotationState[] = [IDLE];
    for (const time of STEP_TIMES) {
      assert.equal(dir.run(time), undefined);
      states.push(dir.state);
    }
    assert.deepEqual(
      states.map((state) => state.step),
      ["idle", "published", "signing", "retiring", "idle"],
    );
    for (const state of states) {
      assert.deepEqual(parseRotationState(serializeRotationState(state), "rotation.json"), state);
    }
    const damaged = (text: string, why: RegExp) =>
      assert.throws(
        () => parseRotationState(text, "issuer/rotation.json"),
        (error: unknown) => error instanceof RotationError && why.test(error.message),
      );
    damaged('{"step":"published"', /issuer\/rotation\.json is not JSON/);
    damaged('{"step":"finished"}', /names no step \(one of idle, published, signing, retiring\)/);
    const signing = JSON.parse(serializeRotationState(states[2] as RotationState));
    delete signing.switchedAt;
    damaged(JSON.stringify(signing), /step signing needs 'switchedAt'/);
    damaged(JSON.stringify({ ...signing, switchedAt: "yesterday" }), /step signing needs 'switchedAt'/);
  });

  test("the flags at the signing step: the new key signs, the old and the new verify, for each distribution", () => {
    const flags = apiServerFlags("https://oidc.example.com/c1/", apiServerKeyFilesAt("signing"));
    assert.match(
      flags.minikube,
      /apiserver\.service-account-signing-key-file=\/var\/lib\/minikube\/certs\/sa-next\.key/,
    );
    assert.equal(flags.minikube.match(/apiserver\.service-account-key-file=/g)?.length, 2);
    assert.match(
      flags.k3s,
      /service-account-key-file=\/etc\/rancher\/k3s\/sa\.pub \\\n.*service-account-key-file=\/etc\/rancher\/k3s\/sa-next\.pub/,
    );
    assert.match(
      flags.k3s,
      /--kube-controller-manager-arg=service-account-private-key-file=\/etc\/rancher\/k3s\/sa-next\.key$/,
    );
    // kubeadm's v1beta3 extraArgs is a map; a repeated flag needs v1beta4's list.
    assert.match(flags.kubeadm, /apiVersion: kubeadm\.k8s\.io\/v1beta4/);
    assert.match(
      flags.kubeadm,
      /- name: service-account-key-file\n {6}value: \/etc\/kubernetes\/pki\/sa\.pub\n {4}- name: service-account-key-file\n {6}value: \/etc\/kubernetes\/pki\/sa-next\.pub/,
    );
    assert.match(
      flags.kind,
      /hostPath: \.\/sa-next\.key, containerPath: \/etc\/kubernetes\/pki\/sa-next\.key/,
    );
    assert.doesNotMatch(apiServerFlags("https://oidc.example.com/c1/").kubeadm, /v1beta4/);
  });

  test("waits as messages show them", () => {
    assert.equal(formatDuration(seconds(86_400 + 300)), "1d 5m");
    assert.equal(formatDuration(1), "1s", "a part of a second left is a second");
    assert.equal(formatDuration(0), "0s");
  });
});
