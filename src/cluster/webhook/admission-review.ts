// The AdmissionReview envelope, without I/O: what the API server posts to a mutating webhook and what it
// expects back (kubernetes.md §5, webhook.md §12). Requests come as `admission.k8s.io/v1` or `v1beta1`; the
// answer is an AdmissionReview of the same apiVersion carrying the request's `uid`, the decision and, for an
// allowed pod with changes, the JSON Patch in standard base64.

import { isPlainObject } from "../../json/json-value.ts";
import { jsonType } from "./json-access.ts";
import type { JsonPatchOperation } from "./pod-editor.ts";

export const ADMISSION_V1 = "admission.k8s.io/v1";
export const ADMISSION_V1BETA1 = "admission.k8s.io/v1beta1";
export type AdmissionReviewApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;
const SUPPORTED_API_VERSIONS: readonly string[] = [ADMISSION_V1, ADMISSION_V1BETA1];
const ADMISSION_REVIEW_KIND = "AdmissionReview";

/** The members of `request` the webhook uses. */
export interface AdmissionRequest {
  /** The review's apiVersion; the answer uses the same one. */
  apiVersion: AdmissionReviewApiVersion;
  uid: string;
  /** Always set for pods; the pod's own `metadata.namespace` may be missing and is not read. */
  namespace: string;
  /** Empty for pods that still wait for a generated name. */
  name: string;
  operation: string;
  /** `request.object`, undecoded: the mutation decides whether it is a Pod. */
  object: unknown;
}

export type DecodedReview =
  | { ok: true; request: AdmissionRequest }
  /** A body that is not an AdmissionReview; `apiVersion` is the one to answer in (v1 unless the body said). */
  | { ok: false; error: string; apiVersion: AdmissionReviewApiVersion };

export type AdmissionDecision =
  | { allowed: true; patch: readonly JsonPatchOperation[] }
  | { allowed: false; code: number; message: string };

export interface AdmissionStatus {
  code: number;
  message?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status: AdmissionStatus;
  patchType?: "JSONPatch";
  /** Standard base64, with padding, of the JSON array of operations. */
  patch?: string;
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionReviewApiVersion;
  kind: typeof ADMISSION_REVIEW_KIND;
  response: AdmissionResponse;
}

/** Parses and decodes a request body; JSON syntax errors read like the API machinery's decoder errors. */
export function parseAdmissionReview(body: string): DecodedReview {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (error) {
    return notAReview(`couldn't get version/kind; json parse error: ${jsonSyntaxError(error)}`);
  }
  return decodeAdmissionReview(review);
}

/** Checks that `review` is an AdmissionReview this webhook can answer and extracts its request. */
export function decodeAdmissionReview(review: unknown): DecodedReview {
  if (!isPlainObject(review)) {
    return notAReview(
      `couldn't get version/kind; json parse error: expected a JSON object, got ${jsonType(review)}`,
    );
  }
  const apiVersion = review.apiVersion ?? ADMISSION_V1;
  const kind = review.kind ?? ADMISSION_REVIEW_KIND;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return notAReview(
      `couldn't get version/kind; json parse error: apiVersion and kind must be strings, got ${jsonType(apiVersion)} and ${jsonType(kind)}`,
    );
  }
  if (!SUPPORTED_API_VERSIONS.includes(apiVersion) || kind !== ADMISSION_REVIEW_KIND) {
    return notAReview(
      `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}: expected an ${ADMISSION_REVIEW_KIND} of ${SUPPORTED_API_VERSIONS.join(" or ")}`,
    );
  }
  const version = apiVersion as AdmissionReviewApiVersion;
  const request = review.request;
  if (!isPlainObject(request)) {
    return notAReview(`the ${ADMISSION_REVIEW_KIND} has no request object`, version);
  }
  if (typeof request.uid !== "string" || request.uid === "") {
    return notAReview("request.uid must be a non-empty string", version);
  }
  for (const field of ["namespace", "name", "operation"] as const) {
    if (request[field] != null && typeof request[field] !== "string") {
      return notAReview(`request.${field} must be a string, got ${jsonType(request[field])}`, version);
    }
  }
  return {
    ok: true,
    request: {
      apiVersion: version,
      uid: request.uid,
      namespace: stringOr(request.namespace),
      name: stringOr(request.name),
      operation: stringOr(request.operation),
      object: request.object,
    },
  };
}

/** The `response` member for a decision on the request with this uid. */
export function admissionResponse(uid: string, decision: AdmissionDecision): AdmissionResponse {
  if (!decision.allowed) {
    return { uid, allowed: false, status: { code: decision.code, message: decision.message } };
  }
  if (decision.patch.length === 0) return { uid, allowed: true, status: { code: 200 } };
  return {
    uid,
    allowed: true,
    status: { code: 200 },
    patchType: "JSONPatch",
    patch: encodePatch(decision.patch),
  };
}

/** The whole answer: an AdmissionReview of the request's apiVersion around `response`. */
export function admissionReviewResponse(
  apiVersion: AdmissionReviewApiVersion,
  response: AdmissionResponse,
): AdmissionReviewResponse {
  return { apiVersion, kind: ADMISSION_REVIEW_KIND, response };
}

/** The answer to a body that could not be reviewed at all: no uid to echo, the reason in the status. */
export function unreviewableResponse(
  code: number,
  message: string,
  apiVersion: AdmissionReviewApiVersion = ADMISSION_V1,
): AdmissionReviewResponse {
  return admissionReviewResponse(apiVersion, { uid: "", allowed: false, status: { code, message } });
}

/** Standard base64 (with padding) of the patch's JSON text. */
export function encodePatch(patch: readonly JsonPatchOperation[]): string {
  return Buffer.from(JSON.stringify(patch), "utf8").toString("base64");
}

/** The operations inside an encoded patch (for tests and `wikit webhook mutate`). */
export function decodePatch(patch: string): JsonPatchOperation[] {
  return JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as JsonPatchOperation[];
}

/** V8 quotes a piece of the input in some syntax errors; a body can hold secrets, so that piece is left out. */
function jsonSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, ".*is not valid JSON$/s, ": not valid JSON");
}

function notAReview(error: string, apiVersion: AdmissionReviewApiVersion = ADMISSION_V1): DecodedReview {
  return { ok: false, error, apiVersion };
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}
