// Rotating a self-managed issuer's signing key (kubernetes.md §2.5) as a resumable state machine. A rotation moves
// through four steps, each started by one `wikit issuer rotate`:
//
//   idle       → published  the next key is made (sa-next.key/.pub) and the JWKS holds old + new;
//   published  → signing    once every cache holds the new key (the documents' max-age): the new key signs, the
//                           old one still verifies (the apiserver restarts with both);
//   signing    → retiring   once every token the old key signed has expired and caches have caught up (the longest
//                           token lifetime + max-age since the switch): the JWKS holds the new key only;
//   retiring   → idle       once every cache has dropped the old key (max-age): its files go to retired/, the new
//                           key takes sa.key's place, and the apiserver restarts without the old key.
//
// Until that last step the old key stays where `issuer init` put it, so the rotation can be undone by hand at any
// point before, and the layout after a rotation is the one `issuer init` makes: the flags are the same again.
//
// Pure: the state, what the directory holds and the time go in; the one next action comes out. The adapter applies
// it, looks at the directory again and asks again, until the action is to record the new state or to wait. Every
// action is idempotent and the state is recorded last, so a step interrupted anywhere is finished by the next run.

/** The files of an issuer directory, by name (what `issuer init` writes, plus a rotation's). */
export const ROTATION_FILES = {
  state: "rotation.json",
  /** Held by the run taking a step: the pid of its process. */
  lock: "rotation.lock",
  signingKey: "sa.key",
  publicKey: "sa.pub",
  nextSigningKey: "sa-next.key",
  nextPublicKey: "sa-next.pub",
  /** Keys a rotation retired: `retired/<kid>.key` and `retired/<kid>.pub`. */
  retiredDir: "retired",
} as const;

/** What kube-apiserver's `--service-account-max-token-expiration` is usually set to, and azwi's longest token. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** kube-apiserver grants no token shorter than this, so no lifetime limit can be. */
export const MIN_MAX_TOKEN_LIFETIME_SECONDS = 600;

export type RotationStep = "idle" | "published" | "signing" | "retiring";

/** A rotation under way: the key it replaces, the key replacing it, and when each step was taken (ISO 8601). */
interface RotationInProgress {
  oldKid: string;
  newKid: string;
  maxTokenLifetimeSeconds: number;
  publishedAt: string;
}

export interface CompletedRotation {
  completedAt: string;
  retiredKid: string;
  signingKid: string;
}

export type RotationState =
  | { step: "idle"; lastRotation?: CompletedRotation }
  | ({ step: "published" } & RotationInProgress)
  | ({ step: "signing"; switchedAt: string } & RotationInProgress)
  | ({ step: "retiring"; switchedAt: string; retiringAt: string } & RotationInProgress);

export const IDLE: RotationState = { step: "idle" };

/** One key slot of the directory: the kid of its private key file and of its public key file, when present. */
export interface KeySlot {
  keyKid?: string;
  pubKid?: string;
}

/** What the issuer directory holds, as the adapter read it. */
export interface ObservedFiles {
  /** sa.key and sa.pub. */
  current: KeySlot;
  /** sa-next.key and sa-next.pub. */
  next: KeySlot;
  /** The type of sa.key, which the next key keeps. */
  currentKeyType?: "rsa" | "ec";
  /** The kids of public/openid/v1/jwks, in order. */
  publishedKids: readonly string[];
}

export interface RotationSettings {
  /** How long caches may keep the published documents (`issuer serve`'s Cache-Control max-age). */
  maxAgeSeconds: number;
  /** The longest lifetime of a token the cluster issues; when absent, the one recorded, else 24 h. */
  maxTokenLifetimeSeconds?: number;
  /** Take a step before its waiting period is over. */
  force?: boolean;
}

export type RotationAction =
  | { kind: "generate-next-key"; keyType: "rsa" | "ec" }
  | { kind: "write-public-key"; slot: "current" | "next" }
  /** Rewrite the discovery document and the JWKS with exactly these keys, in this order. */
  | { kind: "publish"; kids: string[] }
  /** Move sa.key and sa.pub to retired/<kid>.key and .pub. */
  | { kind: "retire-current-key"; kid: string }
  /** Rename sa-next.key and sa-next.pub to sa.key and sa.pub. */
  | { kind: "promote-next-key" }
  /** The step's files are in place: write the state, which ends the step. */
  | { kind: "record"; state: RotationState }
  | { kind: "wait"; step: RotationStep; dueAt: number; message: string }
  | { kind: "conflict"; message: string };

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RotationError";
  }
}

/** The step a state's next run takes, and what that step is for. */
export const NEXT_STEP: Readonly<Record<RotationStep, RotationStep>> = {
  idle: "published",
  published: "signing",
  signing: "retiring",
  retiring: "idle",
};

/** When the state's next step may be taken (epoch ms), and why it waits; none for a step that may run at once. */
export function nextStepDue(
  state: RotationState,
  settings: RotationSettings,
): { dueAt: number; reason: string } | undefined {
  const maxAgeMs = settings.maxAgeSeconds * 1000;
  switch (state.step) {
    case "idle":
      return undefined;
    case "published":
      return {
        dueAt: Date.parse(state.publishedAt) + maxAgeMs,
        reason: "until then a cache may hold a JWKS without the new key, and refuse tokens it signs",
      };
    case "signing":
      return {
        dueAt: Date.parse(state.switchedAt) + maxTokenLifetimeOf(state, settings) * 1000 + maxAgeMs,
        reason: "until then a token the old key signed may still be valid, and must still verify",
      };
    case "retiring":
      return {
        dueAt: Date.parse(state.retiringAt) + maxAgeMs,
        reason:
          "until then a cache may still hold the old key, so its files stay in place and the rotation can still be undone",
      };
  }
}

/** The lifetime limit in force: the one given now, else the one recorded when the rotation began, else 24 h. */
export function maxTokenLifetimeOf(state: RotationState, settings: RotationSettings): number {
  return (
    settings.maxTokenLifetimeSeconds ??
    (state.step === "idle" ? undefined : state.maxTokenLifetimeSeconds) ??
    DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
  );
}

/**
 * The one thing to do next to advance the rotation at `now`: a file action, recording the state that ends the
 * step, waiting, or a conflict between the state and the files that needs a person. A step whose files are already
 * partly changed was begun when it was due (or forced), so it is finished whatever the clock says.
 */
export function nextAction(
  state: RotationState,
  files: ObservedFiles,
  now: number,
  settings: RotationSettings,
): RotationAction {
  switch (state.step) {
    case "idle":
      return startAction(files, now, maxTokenLifetimeOf(state, settings));
    case "published":
      return switchAction(state, files, now, settings);
    case "signing":
      return retireAction(state, files, now, settings);
    case "retiring":
      return finishAction(state, files, now, settings);
  }
}

/** idle → published: make the next key (or take the one an interrupted run made) and publish both. */
function startAction(files: ObservedFiles, now: number, maxTokenLifetimeSeconds: number): RotationAction {
  const oldKid = files.current.keyKid;
  if (oldKid === undefined || files.currentKeyType === undefined) {
    return conflict(
      `there is no ${ROTATION_FILES.signingKey} to rotate: run \`wikit issuer init\` first, or give --dir the folder it wrote`,
    );
  }
  const repair = publicKeyRepair(files.current, "current");
  if (repair) return repair;
  const newKid = files.next.keyKid;
  if (newKid === undefined) return { kind: "generate-next-key", keyType: files.currentKeyType };
  if (newKid === oldKid) {
    return conflict(
      `${ROTATION_FILES.nextSigningKey} is the same key as ${ROTATION_FILES.signingKey}: remove ${ROTATION_FILES.nextSigningKey} and ${ROTATION_FILES.nextPublicKey}, then run again`,
    );
  }
  const nextRepair = publicKeyRepair(files.next, "next");
  if (nextRepair) return nextRepair;
  if (!sameKids(files.publishedKids, [oldKid, newKid])) return { kind: "publish", kids: [oldKid, newKid] };
  return {
    kind: "record",
    state: { step: "published", oldKid, newKid, maxTokenLifetimeSeconds, publishedAt: iso(now) },
  };
}

/** published → signing: nothing to write (the flags name sa-next.key from now on), only the time of the switch. */
function switchAction(
  state: Extract<RotationState, { step: "published" }>,
  files: ObservedFiles,
  now: number,
  settings: RotationSettings,
): RotationAction {
  const mismatch = expectKeys(state, files, { current: state.oldKid, next: state.newKid });
  if (mismatch) return mismatch;
  if (!sameKids(files.publishedKids, [state.oldKid, state.newKid])) {
    return { kind: "publish", kids: [state.oldKid, state.newKid] };
  }
  const wait = waitIfEarly(state, now, settings);
  if (wait) return wait;
  return {
    kind: "record",
    state: {
      ...state,
      step: "signing",
      maxTokenLifetimeSeconds: maxTokenLifetimeOf(state, settings),
      switchedAt: iso(now),
    },
  };
}

/** signing → retiring: publish the new key alone. */
function retireAction(
  state: Extract<RotationState, { step: "signing" }>,
  files: ObservedFiles,
  now: number,
  settings: RotationSettings,
): RotationAction {
  const mismatch = expectKeys(state, files, { current: state.oldKid, next: state.newKid });
  if (mismatch) return mismatch;
  const begun = sameKids(files.publishedKids, [state.newKid]);
  if (!begun) {
    return waitIfEarly(state, now, settings) ?? { kind: "publish", kids: [state.newKid] };
  }
  return {
    kind: "record",
    state: {
      ...state,
      step: "retiring",
      maxTokenLifetimeSeconds: maxTokenLifetimeOf(state, settings),
      retiringAt: iso(now),
    },
  };
}

/** retiring → idle: the old key's files to retired/, the new key to sa.key and sa.pub. */
function finishAction(
  state: Extract<RotationState, { step: "retiring" }>,
  files: ObservedFiles,
  now: number,
  settings: RotationSettings,
): RotationAction {
  const { oldKid, newKid } = state;
  const oldStillCurrent = files.current.keyKid === oldKid;
  const newStillNext = files.next.keyKid === newKid;
  // The old key's files move first, then the new key's: until both have, sa-next.key is the new key and sa.key is
  // the old one or gone; afterwards sa.key is the new key and sa-next.key is gone.
  const beforeOrBetween = newStillNext && (oldStillCurrent || files.current.keyKid === undefined);
  const after = files.current.keyKid === newKid && files.next.keyKid === undefined;
  if (!beforeOrBetween && !after) {
    return conflict(
      `the key files do not match the rotation from ${oldKid} to ${newKid}: ${describeSlots(files)}; restore them, or remove ${ROTATION_FILES.state} to abandon the rotation`,
    );
  }
  if (!sameKids(files.publishedKids, [newKid])) return { kind: "publish", kids: [newKid] };
  // The old key's public file moves first, so a missing sa.pub beside the old sa.key means the moves have begun.
  const begun = !oldStillCurrent || !newStillNext || files.current.pubKid !== oldKid;
  if (!begun) {
    const wait = waitIfEarly(state, now, settings);
    if (wait) return wait;
  }
  if (oldStillCurrent) return { kind: "retire-current-key", kid: oldKid };
  if (newStillNext) return { kind: "promote-next-key" };
  const repair = publicKeyRepair(files.current, "current");
  if (repair) return repair;
  return {
    kind: "record",
    state: { step: "idle", lastRotation: { completedAt: iso(now), retiredKid: oldKid, signingKid: newKid } },
  };
}

function waitIfEarly(
  state: RotationState,
  now: number,
  settings: RotationSettings,
): RotationAction | undefined {
  const due = nextStepDue(state, settings);
  if (due === undefined || now >= due.dueAt || settings.force) return undefined;
  const step = NEXT_STEP[state.step];
  return {
    kind: "wait",
    step,
    dueAt: due.dueAt,
    message: `the rotation is at step ${state.step}; the next step, ${step === "idle" ? "done" : step}, is due at ${iso(due.dueAt)} (in ${formatDuration(due.dueAt - now)}): ${due.reason}. Run \`wikit issuer rotate\` again then; --force takes the step now, which is dangerous: workloads may fail to get tokens.`,
  };
}

/** A slot whose public key file is missing or is not its private key's (a run interrupted between the two). */
function publicKeyRepair(slot: KeySlot, name: "current" | "next"): RotationAction | undefined {
  return slot.keyKid !== undefined && slot.pubKid !== slot.keyKid
    ? { kind: "write-public-key", slot: name }
    : undefined;
}

function expectKeys(
  state: RotationState & RotationInProgress,
  files: ObservedFiles,
  expected: { current: string; next: string },
): RotationAction | undefined {
  if (files.current.keyKid === expected.current && files.next.keyKid === expected.next) {
    return publicKeyRepair(files.current, "current") ?? publicKeyRepair(files.next, "next");
  }
  return conflict(
    `the rotation (step ${state.step}) expects ${ROTATION_FILES.signingKey} to be ${expected.current} and ${ROTATION_FILES.nextSigningKey} to be ${expected.next}, but ${describeSlots(files)}; restore them, or remove ${ROTATION_FILES.state} and ${ROTATION_FILES.nextSigningKey} to abandon the rotation`,
  );
}

function describeSlots(files: ObservedFiles): string {
  const kid = (value: string | undefined) => value ?? "missing";
  return `${ROTATION_FILES.signingKey} is ${kid(files.current.keyKid)} and ${ROTATION_FILES.nextSigningKey} is ${kid(files.next.keyKid)}`;
}

function conflict(message: string): RotationAction {
  return { kind: "conflict", message };
}

function sameKids(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length && actual.every((kid, index) => kid === expected[index]);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** The key files the apiserver is started with at a step, by name in the issuer directory. */
export interface ApiServerKeyFiles {
  signingKey: string;
  publicKeys: string[];
}

/** Which files the apiserver signs and verifies with at a step (after it is restarted as the step says). */
export function apiServerKeyFilesAt(step: RotationStep): ApiServerKeyFiles {
  const { signingKey, publicKey, nextSigningKey, nextPublicKey } = ROTATION_FILES;
  return step === "signing" || step === "retiring"
    ? { signingKey: nextSigningKey, publicKeys: [publicKey, nextPublicKey] }
    : { signingKey, publicKeys: [publicKey] };
}

/** The kid the cluster signs with at a step (once restarted as the step says). */
export function signingKidAt(state: RotationState, files: ObservedFiles): string | undefined {
  switch (state.step) {
    case "idle":
      return files.current.keyKid;
    case "published":
      return state.oldKid;
    case "signing":
    case "retiring":
      return state.newKid;
  }
}

// The state file: JSON, checked member by member when read, so a hand-edited or truncated file is named clearly.

const STEPS: readonly RotationStep[] = ["idle", "published", "signing", "retiring"];

export function serializeRotationState(state: RotationState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

export function parseRotationState(text: string, file: string): RotationState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RotationError(
      `${file} is not JSON (${(error as Error).message}); restore it, or remove it only if no rotation is under way`,
    );
  }
  const record = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const step = record.step;
  if (typeof step !== "string" || !STEPS.includes(step as RotationStep)) {
    throw new RotationError(`${file} names no step (one of ${STEPS.join(", ")}); restore it`);
  }
  const text_ = (name: string, check: (value: string) => boolean = () => true): string => {
    const member = record[name];
    if (typeof member !== "string" || !check(member)) {
      throw new RotationError(`${file}: step ${step} needs '${name}'; restore the file`);
    }
    return member;
  };
  const time = (name: string) => text_(name, (member) => !Number.isNaN(Date.parse(member)));
  if (step === "idle") {
    const last = record.lastRotation as Record<string, unknown> | undefined;
    if (last === undefined) return { step };
    if (
      typeof last !== "object" ||
      typeof last.completedAt !== "string" ||
      typeof last.retiredKid !== "string" ||
      typeof last.signingKid !== "string"
    ) {
      throw new RotationError(`${file}: lastRotation is incomplete; restore the file`);
    }
    return {
      step,
      lastRotation: {
        completedAt: last.completedAt,
        retiredKid: last.retiredKid,
        signingKid: last.signingKid,
      },
    };
  }
  const lifetime = record.maxTokenLifetimeSeconds;
  if (
    typeof lifetime !== "number" ||
    !Number.isInteger(lifetime) ||
    lifetime < MIN_MAX_TOKEN_LIFETIME_SECONDS
  ) {
    throw new RotationError(`${file}: step ${step} needs 'maxTokenLifetimeSeconds'; restore the file`);
  }
  const progress: RotationInProgress = {
    oldKid: text_("oldKid"),
    newKid: text_("newKid"),
    maxTokenLifetimeSeconds: lifetime,
    publishedAt: time("publishedAt"),
  };
  if (step === "published") return { step, ...progress };
  if (step === "signing") return { step, ...progress, switchedAt: time("switchedAt") };
  return { step: "retiring", ...progress, switchedAt: time("switchedAt"), retiringAt: time("retiringAt") };
}

// Waits as messages show them.

const DURATION_UNITS_SECONDS: Readonly<Record<string, number>> = { d: 86_400, h: 3_600, m: 60, s: 1 };

/** `1d 2h 3m 4s`, to the second, the largest units first, for messages. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.ceil(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of Object.entries(DURATION_UNITS_SECONDS)) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) parts.push(`${amount}${unit}`);
  }
  return parts.length > 0 ? parts.join(" ") : "0s";
}
