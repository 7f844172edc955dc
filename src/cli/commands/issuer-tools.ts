import { chmod, readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { JwksError, jwksOfPemFiles } from "../../cluster/issuer/public-key-jwks.ts";
import { CliError } from "../cli-error.ts";

// Issuer tooling for clusters that are their own OIDC issuer (walkthrough W4): `wikit jwks`, azwi's `jwks`.

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
