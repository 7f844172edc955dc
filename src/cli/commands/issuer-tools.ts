import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { type Command, Option } from "commander";
import {
  apiServerFlags,
  checkIssuerUrl,
  DISCOVERY_PATH,
  IssuerUrlError,
  issuerDocuments,
  JWKS_PATH,
} from "../../cluster/issuer/issuer-files.ts";
import { type Fetched, verifyIssuer } from "../../cluster/issuer/issuer-verification.ts";
import { JwksError, jwksOfPemFiles } from "../../cluster/issuer/public-key-jwks.ts";
import { startStaticIssuer } from "../../cluster/issuer/static-issuer-server.ts";
import { issueServingCertificate } from "../../pki/certificates.ts";
import { resolveDataDir } from "../../server/data-dir.ts";
import { loadLocalCa } from "../../server/tls/local-ca.ts";
import { CliError } from "../cli-error.ts";
import { note } from "../output.ts";

// Issuer tooling for clusters that are their own OIDC issuer (walkthrough W4): `wikit jwks`, azwi's `jwks`, and
// `wikit issuer init`, which makes the signing key and the documents to publish, and says how to start the cluster.

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
        (url, accept) => fetchDocument(url, accept, extraCa),
        token,
      );
      const marks = { ok: "ok     ", warning: "warning", problem: "PROBLEM" } as const;
      for (const finding of findings) process.stdout.write(`${marks[finding.level]}  ${finding.message}\n`);
      const problems = findings.filter((finding) => finding.level === "problem").length;
      process.stdout.write(
        problems === 0 ? "The issuer is ready for token exchange.\n" : `${problems} problem(s).\n`,
      );
      if (problems > 0) process.exitCode = 1;
    });
}

/** One GET as a token service makes it: no redirects, a time bound, and the given extra CA besides the system's. */
function fetchDocument(url: string, accept: string, extraCa: string | undefined): Promise<Fetched> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ ok: false, error: "not a URL" });
      return;
    }
    const get = target.protocol === "https:" ? httpsGet : httpGet;
    const request = get(
      target,
      {
        headers: { accept },
        timeout: 10_000,
        ...(extraCa && target.protocol === "https:" ? { ca: [...rootCertificates, extraCa] } : {}),
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (body.length < 1024 * 1024) body += chunk;
        });
        response.on("end", () =>
          resolve({
            ok: true,
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            body,
          }),
        );
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer within 10 s")));
    request.on("error", (error) => resolve({ ok: false, error: error.message }));
  });
}
