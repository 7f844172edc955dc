// wikit's release version, read from package.json so that it is written down once. The path is relative to
// this module: src/names/ and a build's dist/names/ both sit two levels under the package root.

import { readFileSync } from "node:fs";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** The version of this wikit: the CLI's --version, the chart's version and appVersion, the default image tag. */
export const WIKIT_VERSION: string = packageJson.version;
