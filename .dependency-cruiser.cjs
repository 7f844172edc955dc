// wikit's layers (docs/architecture.md), each importing only from the layers below it:
//   cli → server (composition root) → management → parts (cluster, identity, resources/*) → shared infrastructure
// Parts never import one another; where one needs another's decision, the composition root passes a function in.
// `npm run lint` runs this check; test/architecture/layering.test.ts plants forbidden imports to prove it bites.

const INFRASTRUCTURE = "^src/(store|pki|signing-keys|names|json)/";
const PARTS = "^src/(cluster|identity|resources)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle ties modules into one: split the shared part out, or pass a function in.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "infrastructure-imports-no-layer-above",
      severity: "error",
      comment:
        "Shared infrastructure (store, pki, signing-keys, names, json) knows nothing of the parts or anything above them.",
      from: { path: INFRASTRUCTURE },
      to: { path: "^src/", pathNot: INFRASTRUCTURE },
    },
    {
      name: "parts-never-import-one-another",
      severity: "error",
      comment:
        "cluster, identity and each resource are independent parts: the composition root (src/server) passes in what one needs of another.",
      from: { path: "^src/(cluster|identity)/" },
      to: { path: PARTS, pathNot: "^src/$1/" },
    },
    {
      name: "resources-never-import-one-another-or-other-parts",
      severity: "error",
      comment: "Each resource (src/resources/<name>) is its own part.",
      from: { path: "^src/resources/([^/]+)/" },
      to: { path: PARTS, pathNot: "^src/resources/$1/" },
    },
    {
      name: "parts-import-no-layer-above",
      severity: "error",
      comment: "Parts are below the management API, the composition root and the CLI.",
      from: { path: PARTS },
      to: { path: "^src/(management|server|cli)/" },
    },
    {
      name: "management-imports-no-layer-above",
      severity: "error",
      comment:
        "The management API (ARM/Graph REST over the parts) is below the composition root and the CLI.",
      from: { path: "^src/management/" },
      to: { path: "^src/(server|cli)/" },
    },
    {
      name: "server-imports-no-cli",
      severity: "error",
      comment: "The composition root is below the CLI.",
      from: { path: "^src/server/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "cli-talks-http-to-the-identity-side",
      severity: "error",
      comment:
        "The CLI reaches the directory, vaults and management API over HTTP, never by importing them; ARM IDs and names come from src/names.",
      from: { path: "^src/cli/" },
      to: { path: "^src/(identity|resources|management|store)/" },
    },
    {
      name: "no-dev-dependencies-at-run-time",
      severity: "error",
      comment: "devDependencies (the SDK oracles, test tools) are not installed in production.",
      from: { path: "^src/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "no-unresolvable-imports",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
