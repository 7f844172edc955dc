// Answering one AdmissionReview for a pod, in the handler order of webhook.md §3: decode the review and the
// pod, look up the pod's ServiceAccount in the request's namespace, mutate, and wrap the decision in an
// AdmissionReview of the request's apiVersion. Transport-free, so that the HTTPS server, the benchmarks and
// the tests share it.

import type { AdmissionResult } from "./admission-metrics.ts";
import {
  type AdmissionDecision,
  type AdmissionReviewResponse,
  admissionResponse,
  admissionReviewResponse,
  parseAdmissionReview,
  unreviewableResponse,
} from "./admission-review.ts";
import { type MutationConfig, type PatchOutcome, podPatch } from "./mutation.ts";
import { podDecodeError } from "./pod-decoding.ts";
import { podIdentityString, type ServiceAccountLike, serviceAccountName } from "./pod-facts.ts";
import type { ServiceAccountLookup } from "./service-account-cache.ts";

export interface PodAdmissionDependencies {
  serviceAccounts: Pick<ServiceAccountLookup, "get">;
  config: MutationConfig;
}

/** The answer, plus what the server logs and counts about it (never the pod's spec or env values). */
export interface PodAdmission {
  /** 200 for every review, 400 for a body that is not a review. */
  httpStatus: number;
  review: AdmissionReviewResponse;
  result: AdmissionResult;
  uid: string;
  namespace: string;
  /** The pod identity string: its name, or `<generateName> (prefix)`. */
  pod: string;
  operation: string;
  serviceAccount: string;
  allowed: boolean;
  /** The status code inside the review. */
  code: number;
  /** Why the pod was denied, or why the body could not be reviewed. */
  message?: string;
  patchOperations: number;
}

/** Reviews one request body (the raw JSON text). Never throws: an unexpected failure is answered with 500. */
export async function admitPod(body: string, dependencies: PodAdmissionDependencies): Promise<PodAdmission> {
  const decoded = parseAdmissionReview(body);
  if (!decoded.ok) {
    return {
      httpStatus: 400,
      review: unreviewableResponse(400, decoded.error, decoded.apiVersion),
      result: "error",
      uid: "",
      namespace: "",
      pod: "",
      operation: "",
      serviceAccount: "",
      allowed: false,
      code: 400,
      message: decoded.error,
      patchOperations: 0,
    };
  }
  const { request } = decoded;
  const pod = request.object;
  const facts = {
    uid: request.uid,
    namespace: request.namespace,
    pod: podIdentityString(pod),
    operation: request.operation,
    serviceAccount: serviceAccountName(pod),
  };
  const answer = (decision: AdmissionDecision, result: AdmissionResult): PodAdmission => ({
    httpStatus: 200,
    review: admissionReviewResponse(request.apiVersion, admissionResponse(request.uid, decision)),
    result,
    ...facts,
    allowed: decision.allowed,
    code: decision.allowed ? 200 : decision.code,
    ...(decision.allowed ? {} : { message: decision.message }),
    patchOperations: decision.allowed ? decision.patch.length : 0,
  });

  try {
    const decodeError = podDecodeError(pod);
    if (decodeError !== undefined)
      return answer({ allowed: false, code: 400, message: decodeError }, "denied");
    if (request.namespace === "") {
      const message =
        "request.namespace is empty: the pod's ServiceAccount is looked up in the request's namespace";
      return answer({ allowed: false, code: 400, message }, "denied");
    }
    let serviceAccount: ServiceAccountLike | undefined;
    try {
      serviceAccount = await dependencies.serviceAccounts.get(request.namespace, facts.serviceAccount);
    } catch (error) {
      return answer({ allowed: false, code: 400, message: errorText(error) }, "error");
    }
    const outcome: PatchOutcome = podPatch({
      pod,
      serviceAccount,
      namespace: request.namespace,
      config: dependencies.config,
    });
    return outcome.allowed
      ? answer({ allowed: true, patch: outcome.patch }, "allowed")
      : answer({ allowed: false, code: outcome.code, message: outcome.message }, "denied");
  } catch (error) {
    return answer({ allowed: false, code: 500, message: `internal error: ${errorText(error)}` }, "error");
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
