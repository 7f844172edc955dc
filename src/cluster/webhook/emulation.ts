// wikit's emulation step (deployment model B): in a cluster that runs wikit's token service and vault, pods
// reach wikit under Microsoft's own host names, with no change to their code or configuration. The step maps
// those names to wikit's address with `hostAliases` and makes every mutated container trust a CA bundle
// (the system roots plus wikit's CA) through the variables that Node, Python and Go clients read.
//
// Like the rest of the mutation it only adds or replaces, never overwrites what the pod already says (its own
// variables and host mappings win), and running it on its own output changes nothing.

import { isDeepStrictEqual } from "node:util";
import type { JsonObject } from "../../json/json-value.ts";
import {
  EMULATION_CA_CONFIG_MAP_KEY,
  EMULATION_CA_FILE,
  EMULATION_CA_MOUNT_PATH,
  EMULATION_CA_VOLUME_NAME,
  NODE_EXTRA_CA_CERTS,
  REQUESTS_CA_BUNDLE,
  SSL_CERT_FILE,
} from "./constants.ts";
import { arrayOf, member } from "./json-access.ts";
import type { PodEditor } from "./pod-editor.ts";

export interface EmulationConfig {
  /** IP address of wikit's service (token service and vault) that the host names resolve to in the pod. */
  address: string;
  /** Names wikit answers for: `login.microsoftonline.com` and the vault host names (`myvault.vault.azure.net`). */
  hostNames: string[];
  /**
   * ConfigMap holding the CA bundle under `ca.crt`: the system roots plus wikit's CA, because Python and Go
   * clients replace their trust store with it. A ConfigMap volume is namespaced, so the ConfigMap must exist
   * in the pod's namespace.
   */
  caConfigMap: string;
}

/** The variables pointing each client family at the CA bundle, in injection order. */
export const EMULATION_CA_ENV: readonly string[] = [NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, SSL_CERT_FILE];

/** The API server defaults a ConfigMap volume's mode to 0644; setting it here keeps re-invocation empty. */
const CONFIG_MAP_DEFAULT_MODE = 0o644;

/** Adds the host mapping, the CA bundle volume, and its mount and variables in every non-skipped container. */
export function injectEmulation(
  editor: PodEditor,
  emulation: EmulationConfig,
  skipped: ReadonlySet<string>,
): void {
  mapHostNames(editor, emulation.address, emulation.hostNames);
  const env = EMULATION_CA_ENV.map((name) => ({ name, value: EMULATION_CA_FILE }));
  const mount: JsonObject = {
    name: EMULATION_CA_VOLUME_NAME,
    readOnly: true,
    mountPath: EMULATION_CA_MOUNT_PATH,
  };
  for (const list of ["initContainers", "containers"] as const) {
    const containers = editor.read(["spec", list]);
    if (!Array.isArray(containers)) continue;
    containers.forEach((container, index) => {
      const name = member(container, "name");
      if (typeof name === "string" && skipped.has(name)) return;
      const path = ["spec", list, index];
      const present = new Set(arrayOf(member(container, "env")).map((entry) => member(entry, "name")));
      editor.append(
        [...path, "env"],
        env.filter((variable) => !present.has(variable.name)),
      );
      editor.upsertByName([...path, "volumeMounts"], mount, isDeepStrictEqual);
    });
  }
  editor.upsertByName(["spec", "volumes"], caBundleVolume(emulation.caConfigMap), isDeepStrictEqual);
}

/**
 * Maps each host name the pod does not map yet to `address`: into the pod's entry for that address when it
 * has one, else in a new entry. A name the pod already maps, to any address, is left as the pod has it.
 */
function mapHostNames(editor: PodEditor, address: string, hostNames: readonly string[]): void {
  const aliases = arrayOf(editor.read(["spec", "hostAliases"]));
  const mapped = new Set(
    aliases.flatMap((alias) =>
      arrayOf(member(alias, "hostnames")).flatMap((name) =>
        typeof name === "string" ? [name.toLowerCase()] : [],
      ),
    ),
  );
  const missing = [...new Set(hostNames.map((name) => name.toLowerCase()))].filter(
    (name) => !mapped.has(name),
  );
  if (missing.length === 0) return;
  const index = aliases.findIndex((alias) => member(alias, "ip") === address);
  if (index === -1) editor.append(["spec", "hostAliases"], [{ ip: address, hostnames: missing }]);
  else editor.append(["spec", "hostAliases", index, "hostnames"], missing);
}

function caBundleVolume(configMap: string): JsonObject {
  return {
    name: EMULATION_CA_VOLUME_NAME,
    configMap: {
      name: configMap,
      items: [{ key: EMULATION_CA_CONFIG_MAP_KEY, path: EMULATION_CA_CONFIG_MAP_KEY }],
      defaultMode: CONFIG_MAP_DEFAULT_MODE,
    },
  };
}
