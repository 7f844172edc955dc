// The file adapter of the rotation machine (key-rotation.ts) for the folder `issuer init` wrote: reads what the
// directory holds for the machine, carries out its actions, and runs one step to its end. Every file is written
// durably (temporary file, fsync, rename), so a document `issuer serve` reads is always whole and a crash leaves
// either the old file or the new one; the state is written last.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keyIdOf } from "../../signing-keys/key-id.ts";
import { writeFileDurably } from "../../store/durable-file.ts";
import { DISCOVERY_PATH, issuerDocuments, JWKS_PATH } from "./issuer-files.ts";
import {
  IDLE,
  nextAction,
  type ObservedFiles,
  parseRotationState,
  ROTATION_FILES,
  type RotationAction,
  RotationError,
  type RotationSettings,
  type RotationState,
  type RotationStep,
  serializeRotationState,
} from "./key-rotation.ts";

/** The issuer the directory's discovery document names. */
export async function issuerOfDirectory(dir: string): Promise<string> {
  const discoveryFile = join(dir, "public", DISCOVERY_PATH);
  const text = await readOptional(discoveryFile);
  if (text === undefined) {
    throw new RotationError(
      `${discoveryFile} is missing: run \`wikit issuer init --out ${dir}\` first, or give --dir the folder it wrote`,
    );
  }
  let issuer: unknown;
  try {
    issuer = (JSON.parse(text) as { issuer?: unknown }).issuer;
  } catch {
    issuer = undefined;
  }
  if (typeof issuer !== "string") {
    throw new RotationError(
      `${discoveryFile} names no issuer; restore it, or run \`wikit issuer init\` again`,
    );
  }
  return issuer;
}

/** The rotation recorded in the directory: none (idle) when no rotation was ever begun. */
export async function readRotationState(dir: string): Promise<RotationState> {
  const file = join(dir, ROTATION_FILES.state);
  const text = await readOptional(file);
  return text === undefined ? IDLE : parseRotationState(text, file);
}

/** What the machine needs to know of the directory: the kid of each key file, and the kids published. */
export async function observeRotationFiles(dir: string): Promise<ObservedFiles> {
  const current = await privateKeyIn(join(dir, ROTATION_FILES.signingKey));
  const next = await privateKeyIn(join(dir, ROTATION_FILES.nextSigningKey));
  const jwks = await readOptional(join(dir, "public", JWKS_PATH));
  let publishedKids: string[] = [];
  try {
    const keys = jwks === undefined ? [] : (JSON.parse(jwks) as { keys?: { kid?: unknown }[] }).keys;
    publishedKids = (keys ?? []).map((key) => String(key.kid));
  } catch {
    publishedKids = []; // a damaged JWKS is republished whole by the step it belongs to
  }
  const keyType = current?.asymmetricKeyType;
  return {
    current: {
      keyKid: current && keyIdOf(current),
      pubKid: await publicKidIn(join(dir, ROTATION_FILES.publicKey)),
    },
    next: {
      keyKid: next && keyIdOf(next),
      pubKid: await publicKidIn(join(dir, ROTATION_FILES.nextPublicKey)),
    },
    currentKeyType: keyType === "rsa" || keyType === "ec" ? keyType : undefined,
    publishedKids,
  };
}

export type StepOutcome =
  | { kind: "taken"; from: RotationStep; state: RotationState }
  | { kind: "wait"; message: string }
  | { kind: "conflict"; message: string };

/**
 * One `issuer rotate`: the next step, if it is due, carried out action by action until its state is recorded. A
 * file action that fails stops the run with a RotationError; what it wrote stays, and the next run finishes it.
 */
export async function takeNextStep(
  dir: string,
  now: number,
  settings: RotationSettings,
): Promise<StepOutcome> {
  const release = await lockRotation(dir);
  try {
    return await takeLockedStep(dir, now, settings);
  } finally {
    await release();
  }
}

/** Whether a process with this pid exists (signal 0 only checks; EPERM means it exists under another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the directory's rotation lock, so that two runs never interleave their file actions; a lock whose process
 * is gone (a run that was killed) is taken over. Returns its release.
 */
async function lockRotation(dir: string): Promise<() => Promise<void>> {
  const lockFile = join(dir, ROTATION_FILES.lock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt((await readOptional(lockFile)) ?? "", 10);
    // No pid yet: a run has just created the lock and is writing it.
    if (!Number.isInteger(holder) || holder <= 0 || processExists(holder)) {
      throw new RotationError(
        `another \`wikit issuer rotate\`${Number.isInteger(holder) ? ` (pid ${holder})` : ""} is taking a step in ${dir}; wait for it to end, or remove ${lockFile} if no rotation runs`,
      );
    }
    await rm(lockFile, { force: true });
  }
  throw new RotationError(`cannot take the rotation lock ${lockFile}: another run keeps taking it`);
}

async function takeLockedStep(dir: string, now: number, settings: RotationSettings): Promise<StepOutcome> {
  const issuer = await issuerOfDirectory(dir);
  const from = (await readRotationState(dir)).step;
  // Each action changes the files so that the machine asks for another; the bound catches a machine that loops.
  for (let round = 0; round < 20; round++) {
    const state = await readRotationState(dir);
    const action = nextAction(state, await observeRotationFiles(dir), now, settings);
    if (action.kind === "wait" || action.kind === "conflict")
      return { kind: action.kind, message: action.message };
    try {
      await applyRotationAction(dir, issuer, action);
    } catch (error) {
      if (error instanceof RotationError) throw error;
      throw new RotationError(
        `the step after ${from} stopped at '${action.kind}': ${(error as Error).message}. What it wrote is kept: fix the cause and run \`wikit issuer rotate --dir ${dir}\` again to finish the step`,
      );
    }
    if (action.kind === "record") return { kind: "taken", from, state: action.state };
  }
  throw new RotationError(`the rotation in ${dir} made no progress; run \`wikit issuer rotate --status\``);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** The private key in a file, or none when the file is missing; a file that is not a key is reported. */
async function privateKeyIn(file: string): Promise<KeyObject | undefined> {
  const pem = await readOptional(file);
  if (pem === undefined) return undefined;
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new RotationError(`${file} is not a private key (${(error as Error).message}); restore it`);
  }
}

/** The kid of a public key file; none when it is missing or unreadable, since it is rewritten from its private key. */
async function publicKidIn(file: string): Promise<string | undefined> {
  try {
    return keyIdOf(createPublicKey(await readFile(file, "utf8")));
  } catch {
    return undefined;
  }
}

/** Moves a file if it is there; a file an interrupted run already moved is skipped. */
async function moveIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

const publicPem = (key: KeyObject) => createPublicKey(key).export({ type: "spki", format: "pem" }).toString();

async function applyRotationAction(dir: string, issuer: string, action: RotationAction): Promise<void> {
  const file = (name: string) => join(dir, name);
  switch (action.kind) {
    case "generate-next-key": {
      const { privateKey } =
        action.keyType === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "P-256" })
          : generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await writeFileDurably(file(ROTATION_FILES.nextSigningKey), pem, 0o600);
      return;
    }
    case "write-public-key": {
      const [keyName, pubName] =
        action.slot === "current"
          ? [ROTATION_FILES.signingKey, ROTATION_FILES.publicKey]
          : [ROTATION_FILES.nextSigningKey, ROTATION_FILES.nextPublicKey];
      const key = await privateKeyIn(file(keyName));
      if (key) await writeFileDurably(file(pubName), publicPem(key));
      return;
    }
    case "publish": {
      const keys = new Map<string, KeyObject>();
      for (const name of [ROTATION_FILES.signingKey, ROTATION_FILES.nextSigningKey]) {
        const key = await privateKeyIn(file(name));
        if (key) keys.set(keyIdOf(key), createPublicKey(key));
      }
      const published = action.kids.map((kid) => {
        const key = keys.get(kid);
        if (!key) {
          throw new RotationError(
            `the key ${kid} is in neither ${ROTATION_FILES.signingKey} nor ${ROTATION_FILES.nextSigningKey}; restore it`,
          );
        }
        return key;
      });
      const documents = issuerDocuments(issuer, published);
      // The JWKS first: the discovery document names the same jwks_uri before and after.
      await writeFileDurably(join(dir, "public", JWKS_PATH), documents.jwks);
      await writeFileDurably(join(dir, "public", DISCOVERY_PATH), documents.discovery);
      return;
    }
    case "retire-current-key": {
      await mkdir(file(ROTATION_FILES.retiredDir), { recursive: true, mode: 0o700 });
      // The public key first: while sa.key is still in place the machine sees the old key and asks again.
      const retired = (extension: string) =>
        join(dir, ROTATION_FILES.retiredDir, `${action.kid}.${extension}`);
      await moveIfPresent(file(ROTATION_FILES.publicKey), retired("pub"));
      await moveIfPresent(file(ROTATION_FILES.signingKey), retired("key"));
      return;
    }
    case "promote-next-key":
      await moveIfPresent(file(ROTATION_FILES.nextPublicKey), file(ROTATION_FILES.publicKey));
      await moveIfPresent(file(ROTATION_FILES.nextSigningKey), file(ROTATION_FILES.signingKey));
      return;
    case "record":
      await writeFileDurably(file(ROTATION_FILES.state), serializeRotationState(action.state));
      return;
    case "wait":
    case "conflict":
      throw new Error(`${action.kind} is not a file action`);
  }
}
