// The sign-in log over the management API (admin only): the records, newest first, and each federated credential's
// usage. Times are ISO 8601, as Microsoft Graph's sign-in logs give them.

import type { FastifyInstance } from "fastify";
import { badRequest } from "../identity/directory/directory-error.ts";
import type { SignInLog } from "../identity/sign-ins/sign-in-log.ts";
import { MANAGEMENT_PATHS } from "../names/local-stack-names.ts";
import type { SignInRecord } from "../store/store.ts";
import { armHandler } from "./arm-handler.ts";

/** Most records one call returns. */
const MAX_TOP = 10_000;
const DEFAULT_TOP = 1_000;

export function registerSignInRoutes(app: FastifyInstance, signIns: SignInLog): void {
  app.get(
    MANAGEMENT_PATHS.signIns,
    armHandler(async (_params, request) => {
      const query = request.query as Record<string, string | undefined>;
      const records = await signIns.list({
        failedOnly: booleanParameter("failed", query.failed),
        clientId: query.clientId || undefined,
        since: query.since === undefined ? undefined : timeParameter("since", query.since),
        limit: query.top === undefined ? DEFAULT_TOP : topParameter(query.top),
      });
      return { value: records.map(signInView) };
    }),
  );
  app.get(
    MANAGEMENT_PATHS.signInActivity,
    armHandler(async (_params, request) => {
      const { identityId } = request.query as { identityId?: string };
      if (!identityId) throw badRequest("InvalidParameter", "identityId (an identity's ARM ID) is required.");
      const usage = await signIns.credentialUsage(identityId);
      return {
        value: usage.map(({ credentialId, signIns: count, lastSignIn }) => ({
          credentialId,
          signIns: count,
          lastSignInDateTime: new Date(lastSignIn).toISOString(),
        })),
      };
    }),
  );
}

/** A record as the API shows it: its time as `createdDateTime`, members in a reader's order. */
function signInView({ time, ...record }: SignInRecord) {
  return { createdDateTime: new Date(time).toISOString(), ...record };
}

function booleanParameter(name: string, value: string | undefined): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw badRequest("InvalidParameter", `${name} must be true or false, not '${value}'.`);
}

function timeParameter(name: string, value: string): number {
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) {
    throw badRequest(
      "InvalidParameter",
      `${name} must be an ISO 8601 time such as 2026-12-04T10:00:00Z, not '${value}'.`,
    );
  }
  return time;
}

function topParameter(value: string): number {
  const top = Number(value);
  if (!/^\d+$/.test(value) || top < 1 || top > MAX_TOP) {
    throw badRequest("InvalidParameter", `top must be a whole number from 1 to ${MAX_TOP}, not '${value}'.`);
  }
  return top;
}
