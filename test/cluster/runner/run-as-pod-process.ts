// `runAsPod` in a process of its own, for tests that signal the parent (a test process must not receive
// SIGTERM itself). Usage: node run-as-pod-process.ts <runsDir> <caFile> <command> [args...]
// Fake cluster: the service account exists and every token request returns `token-<n>`. Prints
// `wikit-run exit=<code>` and exits with the code runAsPod resolved to.

import { runAsPod } from "../../../src/cluster/runner/local-run.ts";
import { CLIENT_ID_ANNOTATION } from "../../../src/cluster/webhook/constants.ts";

const [runsDir, caFile, command, ...args] = process.argv.slice(2);
if (!runsDir || !caFile || !command)
  throw new Error("usage: run-as-pod-process.ts <runsDir> <caFile> <command> [args...]");

let issued = 0;
const code = await runAsPod(
  { namespace: "payments", serviceAccount: "api", command, args, env: {} },
  {
    getServiceAccount: async (_namespace, name) => ({
      metadata: { name, annotations: { [CLIENT_ID_ANNOTATION]: "5a1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" } },
    }),
    requestToken: async () => `token-${++issued}`,
    mutation: { tenantId: "11111111-2222-3333-4444-555555555555", authorityHost: "https://localhost:8443/" },
    caFile,
    runsDir,
    localNames: ["localhost"],
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  },
);
process.stdout.write(`wikit-run exit=${code}\n`);
process.exitCode = code;
