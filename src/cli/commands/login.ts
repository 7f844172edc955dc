import type { Command } from "commander";
import { AZURE_RESOURCE_MANAGER } from "../../names/microsoft-hosts.ts";
import { type CliProfile, readCliProfile, resolveDataDir, writeCliProfile } from "../../server/data-dir.ts";
import { CliError } from "../cli-error.ts";
import { printResult } from "../output.ts";
import { type SubscriptionBody, WikitClient } from "../wikit-client.ts";
import { accountView, userOf } from "./account.ts";

// `wikit login --service-principal --federated-token`, `wikit logout` and `wikit account get-access-token`: a
// workload's sign-in, as az makes it inside a labelled pod — the federated token exchanged at wikit's token service.

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export type Login = NonNullable<CliProfile["login"]>;

/** An access token for `scope`, exchanged for the login's federated token; AADSTS errors as az shows them. */
export async function exchange(client: WikitClient, login: Login, scope: string) {
  const response = await client.requestToken(login.tenant, {
    grant_type: "client_credentials",
    client_id: login.clientId,
    client_assertion_type: JWT_BEARER,
    client_assertion: login.federatedToken,
    scope,
  });
  const body = response.body as Record<string, unknown> | undefined;
  if (response.status !== 200 || typeof body?.access_token !== "string") {
    // Entra's first line: the AADSTS code and text (and wikit's explanation, on the next line, when there is one).
    const [description = "", next = ""] = String(body?.error_description ?? JSON.stringify(body)).split(
      /\r?\n/,
    );
    throw new CliError(next.startsWith("wikit: ") ? `${description}\n${next}` : description);
  }
  return { accessToken: body.access_token, expiresIn: Number(body.expires_in) };
}

/** `--resource R` as a v2.0 scope; `--scope` as given. */
function scopeOf(options: { resource?: string; scope?: string }): string {
  if (options.resource !== undefined && options.scope !== undefined) {
    throw new CliError("give --resource or --scope, not both");
  }
  if (options.scope !== undefined) return options.scope;
  // As az: the resource as written, `/.default` appended (ARM's trailing slash makes `…windows.net//.default`).
  return `${options.resource ?? AZURE_RESOURCE_MANAGER}/.default`;
}

/** The claims of a JWT the token service just issued (read, not verified: the CLI only shows them). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

/** The subscriptions of the login's tenant where its principal holds a role, as az lists them after login. */
async function subscriptionsOf(
  client: WikitClient,
  tenant: string,
  principalId: string,
): Promise<SubscriptionBody[]> {
  const visible: SubscriptionBody[] = [];
  for (const subscription of await client.subscriptions()) {
    if (subscription.tenantId !== tenant) continue;
    const filter = encodeURIComponent(`principalId eq '${principalId}'`);
    const { value } = (await client.arm(
      "GET",
      `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Authorization/roleAssignments?$filter=${filter}`,
    )) as { value: unknown[] };
    if (value.length > 0) visible.push(subscription);
  }
  return visible;
}

const dataDirOption = (command: Command) =>
  command.option(
    "--data-dir <dir>",
    "state directory of the running wikit (default: $WIKIT_HOME or ~/.wikit)",
  );

export function registerLoginCommands(program: Command, account: Command): void {
  dataDirOption(program.command("login").description("sign in a service principal with a federated token"))
    .option("--service-principal", "sign in a service principal (the one kind wikit signs in)")
    .requiredOption("-u, --username <client-id>", "the service principal's (or identity's) client ID")
    .requiredOption("-t, --tenant <tenant>", "its tenant ID or domain")
    .requiredOption(
      "--federated-token <token>",
      'the token to exchange, e.g. "$(cat $AZURE_FEDERATED_TOKEN_FILE)"',
    )
    .option("--allow-no-subscriptions", "sign in even where the principal holds no role in any subscription")
    .addHelpText(
      "after",
      '\nExamples:\n  wikit login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" \\\n    --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"\n',
    )
    .action(
      async (options: {
        dataDir?: string;
        servicePrincipal?: boolean;
        username: string;
        tenant: string;
        federatedToken: string;
        allowNoSubscriptions?: boolean;
      }) => {
        if (!options.servicePrincipal) {
          throw new CliError(
            "wikit signs in service principals only: add --service-principal (with -u CLIENT_ID -t TENANT --federated-token TOKEN)",
          );
        }
        const dataDir = resolveDataDir(options.dataDir);
        const client = await WikitClient.connect(dataDir);
        const login: Login = {
          clientId: options.username,
          tenant: options.tenant,
          federatedToken: options.federatedToken.trim(),
        };
        const { accessToken } = await exchange(client, login, scopeOf({}));
        const claims = claimsOf(accessToken);
        const tenant = String(claims.tid);
        const subscriptions = await subscriptionsOf(client, tenant, String(claims.oid));
        if (subscriptions.length === 0 && !options.allowNoSubscriptions) {
          throw new CliError(
            `No subscriptions found for ${options.username}. Give it a role (wikit role assignment create), or sign in with --allow-no-subscriptions.`,
          );
        }
        const profile = await readCliProfile(dataDir);
        const current = subscriptions[0]?.subscriptionId;
        await writeCliProfile(dataDir, { ...profile, subscription: current, login: { ...login, tenant } });
        const user = userOf({ login });
        printResult(
          subscriptions.length > 0
            ? subscriptions.map((subscription) => accountView(subscription, current ?? "", user))
            : [
                {
                  cloudName: "wikit",
                  id: tenant,
                  isDefault: true,
                  name: "N/A(tenant level account)",
                  state: "Enabled",
                  tenantId: tenant,
                  user,
                },
              ],
        );
      },
    );

  dataDirOption(program.command("logout").description("forget the signed-in service principal")).action(
    async (options: { dataDir?: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const { login: _login, ...rest } = await readCliProfile(dataDir);
      await writeCliProfile(dataDir, rest);
    },
  );

  dataDirOption(
    account.command("get-access-token").description("an access token for the signed-in service principal"),
  )
    .option("--resource <resource>", "the resource the token is for (default: Azure Resource Manager)")
    .option("--scope <scope>", "a v2.0 scope instead, e.g. https://vault.azure.net/.default")
    .addHelpText(
      "after",
      "\nExamples:\n  wikit account get-access-token --resource https://vault.azure.net --query accessToken -o tsv\n",
    )
    .action(async (options: { dataDir?: string; resource?: string; scope?: string }) => {
      const dataDir = resolveDataDir(options.dataDir);
      const { login, subscription } = await readCliProfile(dataDir);
      if (!login) throw new CliError("Please run 'wikit login' to setup account.");
      const client = await WikitClient.connect(dataDir);
      const { accessToken, expiresIn } = await exchange(client, login, scopeOf(options));
      const expiresOn = Math.floor(Date.now() / 1000) + expiresIn;
      printResult({
        accessToken,
        expiresOn: localDateTime(expiresOn),
        expires_on: expiresOn,
        subscription,
        tenant: login.tenant,
        tokenType: "Bearer",
      });
    });
}

/** `yyyy-MM-dd HH:mm:ss.ffffff` in local time: az's `expiresOn`. */
function localDateTime(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.000000`;
}
