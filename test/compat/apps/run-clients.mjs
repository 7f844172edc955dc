// Runs several client apps inside one `wikit run` (one pod, one projected service-account token), each as its
// own process with the pod's environment, and prints {id: {code, stdout, stderr}} as JSON.
// argv[2]: JSON [{id, command: [file, ...args], env?: {NAME: value, or null to unset}}].
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";

const specs = JSON.parse(process.argv[2] ?? "[]");
const outcomes = {};

function environment(overrides = {}) {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  return env;
}

function run({ command: [file, ...args], env }) {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: environment(env), timeout: 60_000, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      },
    );
  });
}

let next = 0;
async function worker() {
  while (next < specs.length) {
    const spec = specs[next++];
    outcomes[spec.id] = await run(spec);
  }
}

await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));
console.log(JSON.stringify(outcomes));
