// A kubeconfig file, as a user writes one by hand, whose context `fake` reaches a fake API server.
import { writeFile } from "node:fs/promises";

/** Writes a kubeconfig to `file` for `server` (trusting `caPem`, or skipping TLS verification without it). */
export async function writeFakeKubeconfig(
  file: string,
  server: string,
  options: { caPem?: string; token?: string; otherContexts?: string[]; currentContext?: string } = {},
): Promise<void> {
  const trust = options.caPem
    ? `certificate-authority-data: ${Buffer.from(options.caPem).toString("base64")}`
    : "insecure-skip-tls-verify: true";
  // Other contexts name a cluster the file does not have.
  const otherContexts = (options.otherContexts ?? [])
    .map((name) => `- name: ${name}\n  context: {cluster: missing, user: fake}\n`)
    .join("");
  await writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${server}
    ${trust}
users:
- name: fake
  user: ${options.token ? `{token: ${options.token}}` : "{}"}
contexts:
- name: fake
  context: {cluster: fake, user: fake}
${otherContexts}current-context: ${options.currentContext ?? "fake"}
`,
  );
}
