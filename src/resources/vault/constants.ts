// Names and texts of the Key Vault data plane that clients see or match on: data actions, error codes
// and messages, defaults. Texts copy the real service's where clients or users depend on them.

export const SECRET_DATA_ACTION_PREFIX = "Microsoft.KeyVault/vaults/secrets/";

/** The RBAC data action each secrets operation requires. */
export const SECRET_DATA_ACTIONS = {
  getSecret: `${SECRET_DATA_ACTION_PREFIX}getSecret/action`,
  readMetadata: `${SECRET_DATA_ACTION_PREFIX}readMetadata/action`,
  setSecret: `${SECRET_DATA_ACTION_PREFIX}setSecret/action`,
  update: `${SECRET_DATA_ACTION_PREFIX}update/action`,
  /** The only secrets action without an `/action` suffix. */
  delete: `${SECRET_DATA_ACTION_PREFIX}delete`,
  backup: `${SECRET_DATA_ACTION_PREFIX}backup/action`,
  restore: `${SECRET_DATA_ACTION_PREFIX}restore/action`,
  recover: `${SECRET_DATA_ACTION_PREFIX}recover/action`,
  purge: `${SECRET_DATA_ACTION_PREFIX}purge/action`,
} as const;

export type SecretDataAction = (typeof SECRET_DATA_ACTIONS)[keyof typeof SECRET_DATA_ACTIONS];

/** Every vault in wikit soft-deletes with purge allowed, like a new Azure vault with default settings. */
export const RECOVERY_LEVEL = "Recoverable+Purgeable";
export const RECOVERABLE_DAYS = 90;

/** List pages hold at most this many items; `maxresults` may ask for fewer. */
export const MAX_PAGE_SIZE = 25;

/** Azure's limit on a secret value. */
export const MAX_SECRET_VALUE_BYTES = 25 * 1024;

/** Tolerated clock difference between the token service and the vault when checking `exp` and `nbf`. */
export const TOKEN_CLOCK_SKEW_SECONDS = 300;

export const ERROR_CODES = {
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  forbiddenByRbac: "ForbiddenByRbac",
  secretDisabled: "SecretDisabled",
  secretNotFound: "SecretNotFound",
  badParameter: "BadParameter",
  conflict: "Conflict",
  objectIsDeletedButRecoverable: "ObjectIsDeletedButRecoverable",
  vaultNotFound: "VaultNotFound",
  internalError: "InternalServerError",
} as const;

export const MESSAGES = {
  missingToken: "AKV10000: Request is missing a Bearer or PoP token.",
  invalidAudience: (expected: string, found: string) =>
    `AKV10022: Invalid audience. Expected ${expected}, found: ${found}.`,
  invalidIssuer: (expected: readonly string[], found: string) =>
    `AKV10032: Invalid issuer. Expected one of ${expected.join(", ")}, found ${found}.`,
  tokenExpired: (expiredAt: string) =>
    `The access token expired at ${expiredAt}. Request a new token from the token service and retry.`,
  tokenNotYetValid: (validFrom: string) =>
    `The access token is not valid before ${validFrom}. Check that the clocks of the token service and the vault agree.`,
  tokenWithoutExpiry: "The access token has no 'exp' claim. Use a token issued by the token service.",
  tokenAlgorithm: "The access token is not signed with RS256, the only algorithm this vault accepts.",
  tokenSignature:
    "The access token's signature does not verify against the token service's signing keys. Use a token issued by the token service this vault trusts.",
  tokenMalformed: "The access token is not a well-formed signed JWT.",
  tokenWithoutCaller:
    "The access token has no 'oid' claim naming the caller, so no role assignment can apply to it.",

  forbiddenByRbac: (denial: {
    appid: string;
    oid: string;
    iss: string;
    action: string;
    resource: string;
    vaultName: string;
    location: string;
  }) =>
    [
      "Caller is not authorized to perform action on resource.",
      "If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.",
      `Caller: appid=${denial.appid};oid=${denial.oid};iss=${denial.iss}`,
      `Action: '${denial.action}'`,
      `Resource: '${denial.resource}'`,
      "Assignment: (not found)",
      "DenyAssignmentId: null",
      "DecisionReason: 'DeniedWithNoValidRBAC' ",
      `Vault: ${denial.vaultName};location=${denial.location}`,
    ].join("\r\n"),
  secretDisabled: "Operation get is not allowed on a disabled secret.",
  secretNotFound: (nameOrId: string) =>
    `A secret with (name/id) ${nameOrId} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  deletedSecretNotFound: (name: string) =>
    `No deleted secret named ${name} is in this key vault: it was never deleted, or it has been recovered or purged.`,
  secretIsDeleted: (name: string) =>
    `Secret ${name} is deleted and still recoverable, so its name cannot be reused yet. Recover it (POST /deletedsecrets/${name}/recover) or purge it (DELETE /deletedsecrets/${name}) first.`,
  secretExists: (name: string) =>
    `Secret ${name} already exists in this key vault. Delete and purge it before restoring a backup of it.`,
  vaultNotFound: (host: string) =>
    `No vault answers at host '${host}'. Use the vault URI shown by the vault (https://<vault-name>.<vault-domain>[:port]) and check that the vault exists.`,
  missingApiVersion:
    "The request has no api-version query parameter. Add one, e.g. ?api-version=7.4; every 7.x and dated version is accepted.",
  internalError: "The vault failed to process the request. Retry later; the vault's log has the details.",
} as const;
