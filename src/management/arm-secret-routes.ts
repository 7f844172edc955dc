import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { badRequest, conflict, DirectoryError } from "../identity/directory/directory-error.ts";
import type { Vaults } from "../identity/directory/vaults.ts";
import { isPlainObject } from "../json/json-value.ts";
import { getDeletedSecret } from "../resources/vault/deleted-secrets.ts";
import type { SecretVersion, Store } from "../store/store.ts";
import { ARM_SECRET_BODY, type ArmSecretBody } from "./arm-body-schemas.ts";
import { bodySchema, validatedBody } from "./arm-body-validation.ts";
import { armHandler } from "./arm-handler.ts";

// ARM's control-plane secret resource (`…/vaults/{vault}/secrets/{name}`), which writes a new version
// the way ARM deployments and `wikit keyvault secret set` do, and lists a vault's secrets. Like ARM, it never returns
// a value. Beside ARM's routes, `POST …/secrets/{name}/compareValue` (the admin's alone: it is not ARM) says whether
// a given value is the current one, so that `wikit apply` writes a version only when the value changed.

const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export interface ArmSecretDeps {
  vaults: Vaults;
  store: Store;
  vaultUri(name: string): string;
}

export function registerArmSecretRoutes(app: FastifyInstance, deps: ArmSecretDeps): void {
  const secrets =
    "/subscriptions/:subscription/resourceGroups/:group/providers/Microsoft.KeyVault/vaults/:vault/secrets";
  const path = `${secrets}/:name`;

  const vaultOf = ({ subscription = "", group = "", vault = "" }: Record<string, string>) =>
    deps.vaults.get(subscription, group, vault);

  const resourceOf = (vaultId: string, vaultName: string, secret: SecretVersion) => {
    const secretUri = `${deps.vaultUri(vaultName)}secrets/${secret.name}`;
    return {
      id: `${vaultId}/secrets/${secret.name}`,
      name: secret.name,
      type: "Microsoft.KeyVault/vaults/secrets",
      properties: {
        ...(secret.contentType ? { contentType: secret.contentType } : {}),
        attributes: {
          enabled: secret.enabled,
          ...(secret.notBefore ? { nbf: secret.notBefore } : {}),
          ...(secret.expires ? { exp: secret.expires } : {}),
          created: secret.created,
          updated: secret.updated,
        },
        secretUri,
        secretUriWithVersion: `${secretUri}/${secret.version}`,
      },
    };
  };

  app.put<{ Body: ArmSecretBody }>(
    path,
    bodySchema(ARM_SECRET_BODY),
    armHandler<ArmSecretBody>(async (params, request, reply) => {
      const vault = await vaultOf(params);
      const name = params.name ?? "";
      if (!SECRET_NAME.test(name)) {
        throw badRequest(
          "BadRequest",
          `The secret name '${name}' is invalid: use 1-127 letters, digits and '-'.`,
        );
      }
      const { properties, tags } = validatedBody(request);
      // Attributes are optional and loosely typed, as ARM takes them: members of the wrong type are ignored.
      const attributes = isPlainObject(properties.attributes) ? properties.attributes : {};
      const now = Math.floor(Date.now() / 1000);
      const secret: SecretVersion = {
        vaultId: vault.id,
        name: (await deps.store.getSecretVersion(vault.id, name))?.name ?? name,
        version: randomBytes(16).toString("hex"),
        value: properties.value,
        contentType: properties.contentType,
        tags: tags ?? {},
        enabled: attributes.enabled !== false,
        notBefore: typeof attributes.nbf === "number" ? attributes.nbf : undefined,
        expires: typeof attributes.exp === "number" ? attributes.exp : undefined,
        created: now,
        updated: now,
      };
      const existed = (await deps.store.getSecretVersion(vault.id, name)) !== undefined;
      // As on the data plane: a soft-deleted secret keeps its name until it is recovered or purged.
      if (!existed && (await getDeletedSecret(deps.store, vault.id, name))) {
        const uri = deps.vaultUri(vault.name);
        throw conflict(
          "Conflict",
          `Secret '${name}' is deleted and still recoverable in vault '${vault.name}', so its name cannot be reused yet. Recover it (POST ${uri}deletedsecrets/${name}/recover) or purge it (DELETE ${uri}deletedsecrets/${name}) first.`,
        );
      }
      await deps.store.putSecretVersion(secret);
      reply.code(existed ? 200 : 201);
      return resourceOf(vault.id, vault.name, secret);
    }),
  );

  app.get(
    secrets,
    armHandler(async (params) => {
      const vault = await vaultOf(params);
      const secrets = await deps.store.listLatestSecrets(vault.id);
      return { value: secrets.map((secret) => resourceOf(vault.id, vault.name, secret)) };
    }),
  );

  app.post(
    `${path}/compareValue`,
    armHandler(async (params, request) => {
      const vault = await vaultOf(params);
      const { value } = (isPlainObject(request.body) ? request.body : {}) as { value?: unknown };
      if (typeof value !== "string") throw badRequest("BadRequest", 'The body must be {"value": "<value>"}.');
      const secret = await deps.store.getSecretVersion(vault.id, params.name ?? "");
      const [current, given] = [Buffer.from(secret?.value ?? ""), Buffer.from(value)];
      const matches =
        secret !== undefined && current.length === given.length && timingSafeEqual(current, given);
      return { exists: secret !== undefined, matches };
    }),
  );

  app.get(
    path,
    armHandler(async (params) => {
      const vault = await vaultOf(params);
      const secret = await deps.store.getSecretVersion(vault.id, params.name ?? "");
      if (!secret) {
        throw new DirectoryError(
          404,
          "ResourceNotFound",
          `The secret '${params.name}' was not found in vault '${vault.name}'.`,
        );
      }
      return resourceOf(vault.id, vault.name, secret);
    }),
  );
}
