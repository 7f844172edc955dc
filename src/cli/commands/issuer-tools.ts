import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { fetchIssuerDocument } from "../../cluster/issuer/issuer-document-fetch.ts";
import {
  apiServerFlags,
  checkIssuerUrl,
  DISCOVERY_PATH,
  IssuerUrlError,
  issuerDocuments,
  JWKS_PATH,
} from "../../cluster/issuer/issuer-files.ts";
import { FINDING_MARKS, verifyIssuer } from "../../cluster/issuer/issuer-verification.ts";
import {
  apiServerKeyFilesAt,
  formatDuration,
  MIN_MAX_TOKEN_LIFETIME_SECONDS,
  maxTokenLifetimeOf,
  NEXT_STEP,
  nextAction,
  nextStepDue,
  type ObservedFiles,
  ROTATION_FILES,
  RotationError,
  type RotationSettings,
  type RotationState,
  signingKidAt,
} from "../../cluster/issuer/key-rotation.ts";
import {
  issuerOfDirectory,
  observeRotationFiles,
  readRotationState,
  takeNextStep,
} from "../../cluster/issuer/key-rotation-files.ts";
import { JwksError, jwksOfPemFiles } from "../../cluster/issuer/public-key-jwks.ts";
import {
  ISSUER_DOCUMENT_MAX_AGE_SECONDS,
  startStaticIssuer,
} from "../../cluster/issuer/static-issuer-server.ts";
import { parseGoDuration, roundedSeconds } from "../../cluster/service-accounts/go-duration.ts";
import { issueServingCertificate } from "../../pki/certificates.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { loadLocalCa } from "../../server/tls/local-ca.ts";
import { CliError } from "../cli-error.ts";
import { note } from "../output.ts";

// Issuer tooling for clusters that are their own OIDC issuer (walkthrough W4): `wikit jwks`, azwi's `jwks`, and
// `wikit issuer init`, which makes the signing key and the documents to publish, and says how to start the cluster;
// `issuer serve`, `issuer verify`, and `issuer rotate`, which runs the rotation machine (key-rotation.ts).

/** `--public-keys a.pub,b.pub --public-keys c.pem`: every file, in order. */
function collectFiles(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").filter((file) => file !== "")];
}

export function registerIssuerToolCommands(program: Command): void {
  program
    .command("jwks")
    .description("the JWKS of a cluster's service-account keys, as azwi jwks writes it")
    .option(
      "--public-keys <files>",
      "PEM files (comma-separated or repeated): public keys, private keys or certificates",
      collectFiles,
      [],
    )
    .option("--output-file <file>", "where to write it, mode 0600 (default: stdout)")
    .addHelpText(
      "after",
      `
Each RSA or EC key (P-256, P-384, P-521) in the files, public or private, or in a certificate, becomes a JWK with
use "sig", its alg, and the kid kube-apiserver gives it. Upload the result as {issuer}/openid/v1/jwks.

Examples:
  openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub
  wikit jwks --public-keys sa.pub --output-file jwks.json
`,
    )
    .action(async (options: { publicKeys: string[]; outputFile?: string }) => {
      const files = await Promise.all(
        options.publicKeys.map(async (path) => {
          try {
            return { path, pem: await readFile(path, "utf8") };
          } catch (error) {
            throw new CliError(`failed to read public key file: ${(error as Error).message}`);
          }
        }),
      );
      let jwks: string;
      try {
        jwks = jwksOfPemFiles(files);
      } catch (error) {
        if (error instanceof JwksError) throw new CliError(error.message);
        throw error;
      }
      if (options.outputFile) {
        await writeFile(options.outputFile, jwks, { mode: 0o600 });
        // An existing file keeps its mode through writeFile: the JWKS file is the owner's, as azwi writes it.
        await chmod(options.outputFile, 0o600);
      } else process.stdout.write(jwks);
    });
}

interface InitOptions {
  issuerUrl: string;
  keyType: "rsa" | "ec";
  out: string;
}

export function registerIssuerCommands(program: Command): void {
  const issuer = program
    .command("issuer")
    .description("a cluster as its own OIDC issuer (self-managed clusters)");
  issuer
    .command("init")
    .description("make a signing key, and the discovery document and JWKS to publish at the issuer URL")
    .requiredOption(
      "--issuer-url <url>",
      "the issuer: an https URL where the documents will be hosted, e.g. https://<account>.blob.core.windows.net/<container>/",
    )
    .addOption(
      new Option("--key-type <type>", "the signing key: RSA-2048 (RS256) or EC P-256 (ES256)")
        .choices(["rsa", "ec"])
        .default("rsa"),
    )
    .option("--out <dir>", "where to write the files", "issuer")
    .addHelpText(
      "after",
      `
Writes DIR/sa.key (the signing key, mode 0600) and DIR/sa.pub, and DIR/public/ with
.well-known/openid-configuration and openid/v1/jwks: upload public/'s contents to where the issuer URL points, so
that {issuer}/.well-known/openid-configuration is the discovery document. Then start the cluster with the flags
printed for it. An existing DIR/sa.key is never replaced.

Examples:
  wikit issuer init --issuer-url "https://mystorage.blob.core.windows.net/oidc-test/" --out issuer
`,
    )
    .action(async (options: InitOptions) => {
      let issuerUrl: string;
      try {
        issuerUrl = checkIssuerUrl(options.issuerUrl);
      } catch (error) {
        if (error instanceof IssuerUrlError) throw new CliError(error.message);
        throw error;
      }
      const keyFile = join(options.out, "sa.key");
      if (existsSync(keyFile)) {
        throw new CliError(
          `${keyFile} exists: a cluster may already sign with it. Remove it first, or choose another --out.`,
        );
      }
      const { privateKey, publicKey } =
        options.keyType === "ec"
          ? generateKeyPairSync("ec", { namedCurve: "P-256" })
          : generateKeyPairSync("rsa", { modulusLength: 2048 });
      const documents = issuerDocuments(issuerUrl, [publicKey]);
      await mkdir(join(options.out, "public", ".well-known"), { recursive: true });
      await mkdir(join(options.out, "public", "openid", "v1"), { recursive: true });
      await writeFile(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), {
        mode: 0o600,
        flag: "wx",
      });
      await writeFile(
        join(options.out, "sa.pub"),
        publicKey.export({ type: "spki", format: "pem" }).toString(),
      );
      await writeFile(join(options.out, "public", DISCOVERY_PATH), documents.discovery);
      await writeFile(join(options.out, "public", JWKS_PATH), documents.jwks);
      const flags = apiServerFlags(issuerUrl);
      process.stdout.write(
        [
          `Wrote ${keyFile} (keep it secret), ${join(options.out, "sa.pub")}, and ${join(options.out, "public")}/:`,
          ...[DISCOVERY_PATH, JWKS_PATH].map(
            (path) => `  ${path.padEnd(DISCOVERY_PATH.length)}  → ${issuerUrl.replace(/\/?$/, "/")}${path}`,
          ),
          "",
          "Upload public/'s contents there (served as application/json), then start the cluster with its flags:",
          "",
          ...Object.entries(flags).flatMap(([distribution, text]) => [`== ${distribution} ==`, text, ""]),
          `Federated credentials name the issuer exactly: --issuer ${issuerUrl}`,
          "",
        ].join("\n"),
      );
    });
  issuer
    .command("serve")
    .description("serve the documents issuer init wrote, over HTTPS, at the issuer URL's paths")
    .option("--dir <dir>", "the folder issuer init wrote", "issuer")
    .option("--port <port>", "port to listen on", "9443")
    .option("--bind-address <address>", "address to listen on (0.0.0.0 for every interface)", "127.0.0.1")
    .option("--host <names...>", "host names to answer for (default: the issuer URL's host)")
    .option("--tls-cert <file>", "the serving certificate (PEM), with --tls-key")
    .option("--tls-key <file>", "its private key (PEM)")
    .option(
      "--data-dir <dir>",
      "without --tls-cert: the data directory whose local CA issues the certificate",
    )
    .addHelpText(
      "after",
      `
Without --tls-cert, the certificate comes from wikit's local CA (ca.crt in the data directory), which wikit up's
token service trusts. Clients elsewhere need that CA, or give --tls-cert and --tls-key.

Examples:
  wikit issuer serve --dir issuer --port 9443
`,
    )
    .action(
      async (options: {
        dir: string;
        port: string;
        bindAddress: string;
        host?: string[];
        tlsCert?: string;
        tlsKey?: string;
        dataDir?: string;
      }) => {
        const discoveryFile = join(options.dir, "public", DISCOVERY_PATH);
        if (!existsSync(discoveryFile)) {
          throw new CliError(
            `${discoveryFile} is missing: run \`wikit issuer init --out ${options.dir}\` first.`,
          );
        }
        const issuerUrl = (JSON.parse(await readFile(discoveryFile, "utf8")) as { issuer: string }).issuer;
        const hosts = options.host ?? [new URL(issuerUrl).hostname];
        if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
          throw new CliError("give --tls-cert and --tls-key together");
        }
        const tls =
          options.tlsCert && options.tlsKey
            ? {
                certPem: await readFile(options.tlsCert, "utf8"),
                keyPem: await readFile(options.tlsKey, "utf8"),
              }
            : await issueServingCertificate(
                (await loadLocalCa(resolveDataDir(options.dataDir))).ca,
                hosts,
                397,
              );
        const served = await startStaticIssuer({
          dir: options.dir,
          hosts,
          tls,
          port: Number(options.port),
          bindAddress: options.bindAddress,
        });
        note(
          `serving ${served.issuer} on ${options.bindAddress}:${served.port} for ${hosts.join(", ")}; stop with Ctrl-C`,
        );
        const stop = () => void served.close().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      },
    );
  issuer
    .command("rotate")
    .description("rotate the signing key in steps: publish the next key, sign with it, retire the old one")
    .option("--dir <dir>", "the folder issuer init wrote", "issuer")
    .option("--status", "print where the rotation stands and what to do next; change nothing")
    .option(
      "--max-token-lifetime <duration>",
      "the longest lifetime of a token the cluster issues (--service-account-max-token-expiration), e.g. 24h, 48h (default: the one given when the rotation began, else 24h)",
    )
    .option(
      "--force",
      "take the next step before its waiting period is over (dangerous: workloads may fail to get tokens)",
    )
    .addOption(new Option("--now <time>", "the time to act at (ISO 8601), for tests").hideHelp())
    .addHelpText(
      "after",
      `
Each run takes the next step if it is due, says what to do, and when the step after is due:
  1. published  sa-next.key and sa-next.pub are made; the JWKS holds the old and the new key. Upload public/.
  2. signing    after the documents' cache time (${formatDuration(ISSUER_DOCUMENT_MAX_AGE_SECONDS * 1000)}): the new key signs. Restart the apiserver and the
                controller manager with the flags printed (signing key sa-next.key; sa.pub and sa-next.pub verify).
  3. retiring   after the longest token lifetime plus the cache time: the JWKS holds only the new key. Upload public/.
  4. done       after the cache time again (until then the old key's files are untouched, so the rotation can be
                undone by hand): sa.key and sa.pub move to retired/<kid>.*, sa-next.* become sa.*. Copy them to the
                node and restart with issuer init's flags.
A step refused as early says how long is left. An interrupted run is finished by the next one. The state is in
DIR/rotation.json. --force skips a wait: a cache may then refuse tokens the new key signs (step 2), or tokens the old
key signed may be refused before they expire (step 3). \`issuer serve\` serves each step's documents at once.

Examples:
  wikit issuer rotate --dir issuer --status
  wikit issuer rotate --dir issuer --max-token-lifetime 24h
`,
    )
    .action(
      async (options: {
        dir: string;
        status?: boolean;
        maxTokenLifetime?: string;
        force?: boolean;
        now?: string;
      }) => {
        const now = options.now === undefined ? Date.now() : Date.parse(options.now);
        if (Number.isNaN(now)) throw new CliError(`--now takes an ISO 8601 time, not '${options.now}'`);
        const settings: RotationSettings = {
          maxAgeSeconds: ISSUER_DOCUMENT_MAX_AGE_SECONDS,
          force: options.force === true,
        };
        if (options.maxTokenLifetime !== undefined) {
          try {
            // kube-apiserver's --service-account-max-token-expiration is a Go duration: 24h, 48h0m0s, 90m.
            settings.maxTokenLifetimeSeconds = roundedSeconds(parseGoDuration(options.maxTokenLifetime));
          } catch (error) {
            throw new CliError(`--max-token-lifetime: ${(error as Error).message}`);
          }
          if (settings.maxTokenLifetimeSeconds < MIN_MAX_TOKEN_LIFETIME_SECONDS) {
            throw new CliError(
              `--max-token-lifetime ${options.maxTokenLifetime} is shorter than any token kube-apiserver issues (10m); give the cluster's --service-account-max-token-expiration`,
            );
          }
        }
        const rotation = await rotationInput(async () => {
          const issuerUrl = await issuerOfDirectory(options.dir);
          if (options.status) return { issuerUrl, state: await readRotationState(options.dir) };
          const outcome = await takeNextStep(options.dir, now, settings);
          if (outcome.kind !== "taken") throw new CliError(outcome.message);
          return { issuerUrl, state: outcome.state, from: outcome.from };
        });
        const report = rotationReport(
          options.dir,
          rotation.issuerUrl,
          rotation.state,
          await rotationInput(() => observeRotationFiles(options.dir)),
          now,
          settings,
        );
        const taken =
          rotation.from === undefined
            ? ""
            : `Took the step ${rotation.from} → ${rotation.state.step === "idle" ? "done" : rotation.state.step}.\n\n`;
        process.stdout.write(`${taken}${report}`);
      },
    );
  issuer
    .command("verify")
    .description("check an issuer as a token service would: discovery, JWKS, and a token when given")
    .requiredOption("--issuer-url <url>", "the issuer, exactly as federated credentials name it")
    .option(
      "--token <file>",
      "a service-account token the cluster issued, to check against the published keys",
    )
    .option("--ca-file <file>", "PEM certificates to trust besides the system's (e.g. wikit's ca.crt)")
    .addHelpText(
      "after",
      `
Reports every problem: an issuer string that differs from the discovery document's (a trailing '/' too), http, an
unreachable document, the wrong content type, a 406 to a narrow Accept, a JWKS key without use or alg, a token whose
kid is not published or whose signature does not verify. Exits 1 when a token service would refuse.

Examples:
  wikit issuer verify --issuer-url "https://mystorage.blob.core.windows.net/oidc-test/" --token token.jwt
`,
    )
    .action(async (options: { issuerUrl: string; token?: string; caFile?: string }) => {
      const extraCa = options.caFile ? await readFile(options.caFile, "utf8") : undefined;
      const token = options.token ? await readFile(options.token, "utf8") : undefined;
      const findings = await verifyIssuer(
        options.issuerUrl,
        (url, accept) => fetchIssuerDocument(url, accept, extraCa),
        token,
      );
      for (const finding of findings)
        process.stdout.write(`${FINDING_MARKS[finding.level]}  ${finding.message}\n`);
      const problems = findings.filter((finding) => finding.level === "problem").length;
      process.stdout.write(
        problems === 0 ? "The issuer is ready for token exchange.\n" : `${problems} problem(s).\n`,
      );
      if (problems > 0) process.exitCode = 1;
    });
}

/** Rotation errors (a damaged state file, a missing key, a failed file action) as the CLI reports them. */
async function rotationInput<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RotationError) throw new CliError(error.message);
    throw error;
  }
}

/** `issuer rotate --status`, and what each step prints: where the rotation stands and what to do now. */
function rotationReport(
  dir: string,
  issuerUrl: string,
  state: RotationState,
  files: ObservedFiles,
  now: number,
  settings: RotationSettings,
): string {
  const at = (name: string) => join(dir, name);
  const base = issuerUrl.replace(/\/?$/, "/");
  const upload = [
    `Upload the documents (\`wikit issuer serve --dir ${dir}\` serves them already):`,
    ...[DISCOVERY_PATH, JWKS_PATH].map(
      (path) =>
        `  ${join(dir, "public", path).padEnd(join(dir, "public", DISCOVERY_PATH).length)}  → ${base}${path}`,
    ),
  ];
  const lines = [`Issuer ${issuerUrl}, keys in ${dir}`];
  const signingKid = signingKidAt(state, files);
  let todo: string[];
  let restart = false;
  switch (state.step) {
    case "idle":
      lines.push(
        state.lastRotation
          ? `Step: done. The rotation finished at ${state.lastRotation.completedAt}: ${state.lastRotation.signingKid} signs; ${state.lastRotation.retiredKid} is retired (${at(ROTATION_FILES.retiredDir)}/).`
          : "Step: idle. No rotation is under way.",
        `Published: ${files.publishedKids.join(", ") || "none"}`,
        `Signing:   ${signingKid ?? "none"} (${ROTATION_FILES.signingKey})`,
      );
      restart = state.lastRotation !== undefined;
      todo = state.lastRotation
        ? [
            `Copy ${at(ROTATION_FILES.signingKey)} and ${at(ROTATION_FILES.publicKey)} (the former sa-next.*) over those on the control-plane node, remove sa-next.* there, and restart the apiserver and the controller manager with these flags (issuer init's):`,
          ]
        : [`Start a rotation with \`wikit issuer rotate --dir ${dir}\`.`];
      break;
    case "published":
      lines.push(
        `Step: published (at ${state.publishedAt}). The next key is in ${ROTATION_FILES.nextSigningKey}.`,
        `Published: ${state.oldKid} (old), ${state.newKid} (new)`,
        `Signing:   ${state.oldKid} (${ROTATION_FILES.signingKey})`,
      );
      todo = [...upload, "Nothing to restart: the cluster keeps signing with the old key."];
      break;
    case "signing":
      lines.push(
        `Step: signing (since ${state.switchedAt}).`,
        `Published: ${state.oldKid} (old), ${state.newKid} (new)`,
        `Signing:   ${state.newKid} (${ROTATION_FILES.nextSigningKey}), once the apiserver is restarted`,
      );
      restart = true;
      todo = [
        `Copy ${at(ROTATION_FILES.nextSigningKey)} and ${at(ROTATION_FILES.nextPublicKey)} to the control-plane node next to sa.key and sa.pub, and restart the apiserver and the controller manager with these flags now (the wait before the old key is unpublished counts from this step):`,
      ];
      break;
    case "retiring":
      lines.push(
        `Step: retiring (since ${state.retiringAt}).`,
        `Published: ${state.newKid} (new); ${state.oldKid} is no longer published`,
        `Signing:   ${state.newKid} (${ROTATION_FILES.nextSigningKey})`,
      );
      todo = [
        ...upload,
        "Nothing to restart: the apiserver keeps the old key as a verification key until the last step.",
      ];
      break;
  }
  const due = nextStepDue(state, settings);
  const next = NEXT_STEP[state.step];
  const nextName = next === "idle" ? "done" : next;
  const lifetime = formatDuration(maxTokenLifetimeOf(state, settings) * 1000);
  const when =
    state.step === "idle"
      ? []
      : due === undefined || now >= due.dueAt
        ? [`Next: ${nextName}, due now: run \`wikit issuer rotate --dir ${dir}\`.`]
        : [
            `Next: ${nextName}, due at ${new Date(due.dueAt).toISOString()} (in ${formatDuration(due.dueAt - now)}${state.step === "signing" ? `: the longest token lifetime, ${lifetime}, plus the documents' cache time` : ""}): run \`wikit issuer rotate --dir ${dir}\` then.`,
          ];
  const flags = restart
    ? Object.entries(apiServerFlags(issuerUrl, apiServerKeyFilesAt(state.step))).flatMap(
        ([distribution, text]) => [`== ${distribution} ==`, text, ""],
      )
    : [];
  // Files that contradict the state stop the next run; the status says so before anything else is done.
  const check = nextAction(state, files, now, settings);
  const problem = check.kind === "conflict" ? ["", `PROBLEM: ${check.message}`] : [];
  return [...lines, ...problem, "", "To do now:", ...todo, "", ...flags, ...when, ""].join("\n");
}
