// The sign-in record of one token request: what the request showed as it was checked (tenant, client, identity,
// resource, the matched credential), the claims its assertion presented, and the result. Every text the caller
// chose is cut short; the assertion itself is never kept.

import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { decodeJwt, type JWTPayload } from "jose";
import { federatedCredentialId } from "../../names/arm-resource-ids.ts";
import type { SignInRecord } from "../../store/store.ts";
import { AadstsError, serviceFaultOf } from "../exchange/aadsts-errors.ts";
import { MAX_ASSERTION_LENGTH } from "../exchange/assertion.ts";
import type { PendingSignIn } from "../sign-ins/sign-in-log.ts";
import { causeChain } from "./entra-error-reply.ts";
import { requestIds } from "./request-ids.ts";

/** What a token request has shown so far: filled in as it is checked, read when it is recorded. */
export interface SignInAttempt {
  tenant?: string;
  clientId?: string;
  identityId?: string;
  assertion?: string;
  resource?: string;
  credential?: string;
}

/** The sign-in record of a finished request: `error` undefined for a success. */
export function signInRecord(
  request: FastifyRequest,
  attempt: SignInAttempt,
  error?: unknown,
): PendingSignIn {
  const { traceId, correlationId } = requestIds(request);
  const presented = presentedClaims(attempt.assertion);
  // Anything but an AadstsError is answered as a fault of the service (see entra-error-reply.ts).
  const failure = error === undefined || error instanceof AadstsError ? error : serviceFaultOf(error);
  const record: SignInRecord = {
    id: randomUUID(),
    time: Date.now(),
    tenant: recorded(attempt.tenant) ?? "",
    clientId: recorded(attempt.clientId),
    identityId: attempt.identityId,
    ...presented,
    resource: recorded(attempt.resource),
    errorCode: failure?.code ?? 0,
    failureReason: failure?.description,
    credential: attempt.credential,
    nearestCredential: failure?.nearestCredential,
    explanation: failure?.explanation,
    cause: failure && causeChain(failure) !== "" ? recorded(causeChain(failure)) : undefined,
    correlationId: recorded(correlationId) ?? "",
    traceId,
  };
  const credentialId =
    failure === undefined && attempt.identityId !== undefined && attempt.credential !== undefined
      ? federatedCredentialId(attempt.identityId, attempt.credential)
      : undefined;
  return { record, credentialId };
}

/** Longest text kept from a request in its sign-in record: every field is the caller's to choose. */
const MAX_RECORDED_LENGTH = 512;

function recorded(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  return value.length > MAX_RECORDED_LENGTH ? `${value.slice(0, MAX_RECORDED_LENGTH)}…` : value;
}

/** The issuer, subject and audiences an assertion carries, as presented (verified or not); never the assertion. */
function presentedClaims(
  assertion: string | undefined,
): Pick<SignInRecord, "issuer" | "subject" | "audiences"> {
  if (assertion === undefined || assertion.length > MAX_ASSERTION_LENGTH) return {};
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion.trim());
  } catch {
    return {};
  }
  const text = (value: unknown) => (typeof value === "string" ? recorded(value) : undefined);
  const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud])
    .map(text)
    .filter((value): value is string => value !== undefined)
    .slice(0, 8);
  return {
    issuer: text(claims.iss),
    subject: text(claims.sub),
    ...(audiences.length > 0 ? { audiences } : {}),
  };
}
