import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { WIKIT_WEBHOOK_NAMESPACE } from "../../cluster/webhook/constants.ts";
import { mergeValues, type WebhookValuesInput, webhookManifests } from "../../cluster/webhook/manifests.ts";
import { TENANT_ID_REQUIRED_MESSAGE } from "../../cluster/webhook/webhook-objects.ts";
import { WIKIT_VERSION } from "../../names/wikit-release.ts";
import { CliError } from "../cli-error.ts";

// `wikit webhook manifests`: the objects the Helm chart installs, as plain YAML, from the same values
// (checked against the chart's values.schema.json, as Helm does).

const valuesSchemaFile = fileURLToPath(
  new URL("../../../deploy/helm/wikit/values.schema.json", import.meta.url),
);

interface ManifestOptions {
  values?: string;
  tenantId?: string;
  azureEnvironment?: string;
  namespace: string;
  image?: string;
}

async function readValues(file: string | undefined): Promise<Record<string, unknown>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the values file ${file}: ${(error as Error).message}`);
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed))
    throw new CliError(`${file} must hold a YAML mapping of values`);
  return parsed as Record<string, unknown>;
}

/** The values with flags applied on top of the file, as `helm --set` would. */
function valuesFrom(file: Record<string, unknown>, options: ManifestOptions): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (options.tenantId !== undefined) overrides.azureTenantID = options.tenantId;
  if (options.azureEnvironment !== undefined) overrides.azureEnvironment = options.azureEnvironment;
  if (options.image !== undefined) {
    const separator = options.image.lastIndexOf(":");
    const tagged = separator > options.image.lastIndexOf("/");
    overrides.image = tagged
      ? { repository: options.image.slice(0, separator), tag: options.image.slice(separator + 1) }
      : { repository: options.image };
  }
  return mergeValues(file, overrides);
}

async function checkAgainstChartSchema(values: Record<string, unknown>): Promise<void> {
  const schema = JSON.parse(await readFile(valuesSchemaFile, "utf8"));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  if (!validate(values)) {
    const problems = (validate.errors ?? []).map(
      (error) =>
        `  ${error.instancePath || "(root)"}: ${error.message}${error.params && "additionalProperty" in error.params ? ` '${String(error.params.additionalProperty)}'` : ""}`,
    );
    throw new CliError(`the values do not match the chart's values.schema.json:\n${problems.join("\n")}`);
  }
}

export function registerWebhookManifests(webhook: Command): void {
  webhook
    .command("manifests")
    .description(
      "print the webhook's Kubernetes objects as plain YAML (the Helm chart's, for the same values)",
    )
    .option("-f, --values <file>", "a values file, as for `helm install -f`")
    .option("--tenant-id <tenant>", "the tenant injected as AZURE_TENANT_ID (the chart's azureTenantID)")
    .option("--azure-environment <cloud>", "AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, …")
    .option("-n, --namespace <namespace>", "namespace to install into", WIKIT_WEBHOOK_NAMESPACE)
    .option("--image <image>", `the wikit image, e.g. registry.example/wikit:${WIKIT_VERSION}`)
    .action(async (options: ManifestOptions) => {
      const values = valuesFrom(await readValues(options.values), options);
      if (!values.azureTenantID) {
        throw new CliError(
          `${TENANT_ID_REQUIRED_MESSAGE} Pass --tenant-id <tenant> or set azureTenantID in the values file.`,
        );
      }
      await checkAgainstChartSchema(values);
      process.stdout.write(
        webhookManifests(values as WebhookValuesInput, { namespace: options.namespace }).yaml,
      );
    });
}
