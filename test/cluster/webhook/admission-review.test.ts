// The AdmissionReview envelope (kubernetes.md §5, webhook.md §12): which bodies are reviews, and the exact
// shape of the answer — same apiVersion, uid echoed, status 200 or the denial, base64 JSON Patch only when
// there is something to change.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ADMISSION_V1,
  ADMISSION_V1BETA1,
  admissionResponse,
  admissionReviewResponse,
  decodeAdmissionReview,
  decodePatch,
  encodePatch,
  parseAdmissionReview,
  unreviewableResponse,
} from "../../../src/cluster/webhook/admission-review.ts";
import type { JsonPatchOperation } from "../../../src/cluster/webhook/pod-editor.ts";
import { ADMISSION_REVIEW_TEXT as fixtureText } from "../../fixtures/kubernetes.ts";

const fixture = JSON.parse(fixtureText);
const UID = "42344aa7-2a62-49d6-b066-3e7b6dfdb6b5";
const PATCH: JsonPatchOperation[] = [
  { op: "add", path: "/spec/containers/0/env/-", value: { name: "AZURE_TENANT_ID", value: "t" } },
];

describe("decoding the request", () => {
  test("the real v1 AdmissionReview decodes to its uid, namespace, name, operation and object", () => {
    const decoded = parseAdmissionReview(fixtureText);
    if (!decoded.ok) return assert.fail(decoded.error);
    assert.equal(decoded.request.apiVersion, ADMISSION_V1);
    assert.equal(decoded.request.uid, UID);
    assert.equal(decoded.request.namespace, "wi-probe");
    assert.equal(decoded.request.name, "injected");
    assert.equal(decoded.request.operation, "CREATE");
    assert.deepEqual(decoded.request.object, fixture.request.object);
  });

  test("a v1beta1 review is accepted and remembered, so that it is answered in kind", () => {
    const decoded = decodeAdmissionReview({ ...fixture, apiVersion: ADMISSION_V1BETA1 });
    if (!decoded.ok) return assert.fail(decoded.error);
    assert.equal(decoded.request.apiVersion, ADMISSION_V1BETA1);
  });

  test("missing apiVersion and kind default to a v1 AdmissionReview, as the API machinery's decoder does", () => {
    const { apiVersion: _a, kind: _k, ...bare } = fixture;
    const decoded = decodeAdmissionReview(bare);
    if (!decoded.ok) return assert.fail(decoded.error);
    assert.equal(decoded.request.apiVersion, ADMISSION_V1);
  });

  test("a request without namespace, name or operation decodes them as empty strings", () => {
    const decoded = decodeAdmissionReview({ apiVersion: ADMISSION_V1, request: { uid: "u", object: {} } });
    if (!decoded.ok) return assert.fail(decoded.error);
    assert.deepEqual(
      [decoded.request.namespace, decoded.request.name, decoded.request.operation],
      ["", "", ""],
    );
  });

  const notReviews: [string, string, RegExp][] = [
    ["garbage text", "not json at all", /^couldn't get version\/kind; json parse error: /],
    ["truncated JSON", fixtureText.slice(0, 200), /^couldn't get version\/kind; json parse error: /],
    [
      "a JSON array",
      "[1,2]",
      /^couldn't get version\/kind; json parse error: expected a JSON object, got array$/,
    ],
    ["a JSON string", '"AdmissionReview"', /couldn't get version\/kind.*got string$/],
    ["null", "null", /couldn't get version\/kind.*got null$/],
    [
      "a number as apiVersion",
      '{"apiVersion":1,"kind":"AdmissionReview"}',
      /apiVersion and kind must be strings/,
    ],
    ["another kind", '{"apiVersion":"v1","kind":"Pod"}', /^no kind "Pod" is registered for version "v1"/],
    [
      "another admission version",
      '{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"u"}}',
      /^no kind "AdmissionReview" is registered for version "admission.k8s.io\/v2"/,
    ],
    ["no request", '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', /has no request object/],
    ["a request that is an array", '{"kind":"AdmissionReview","request":[]}', /has no request object/],
    [
      "no uid",
      '{"kind":"AdmissionReview","request":{"namespace":"a"}}',
      /^request.uid must be a non-empty string$/,
    ],
    [
      "an empty uid",
      '{"kind":"AdmissionReview","request":{"uid":""}}',
      /^request.uid must be a non-empty string$/,
    ],
    [
      "a numeric namespace",
      '{"kind":"AdmissionReview","request":{"uid":"u","namespace":5}}',
      /^request.namespace must be a string, got number$/,
    ],
  ];
  for (const [what, body, message] of notReviews) {
    test(`${what} is not a review: ${message}`, () => {
      const decoded = parseAdmissionReview(body);
      assert.equal(decoded.ok, false);
      if (!decoded.ok) assert.match(decoded.error, message);
    });
  }

  test("a syntax error never quotes the body, which may hold secrets", () => {
    const body = 'xx{"env":[{"name":"PASSWORD","value":"hunter2"}]}';
    const decoded = parseAdmissionReview(body);
    assert.equal(decoded.ok, false);
    if (!decoded.ok) {
      assert.equal(
        decoded.error,
        "couldn't get version/kind; json parse error: Unexpected token 'x': not valid JSON",
      );
      assert.equal(decoded.error.includes("env"), false);
    }
  });

  test("a v1beta1 body that fails after its version was read is answered in v1beta1", () => {
    const decoded = parseAdmissionReview(
      '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}',
    );
    assert.equal(decoded.ok, false);
    if (!decoded.ok) assert.equal(decoded.apiVersion, ADMISSION_V1BETA1);
  });

  test("no JSON value, however odd, makes decoding throw", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        decodeAdmissionReview(value);
        decodeAdmissionReview({ kind: "AdmissionReview", request: value });
        parseAdmissionReview(JSON.stringify(value));
      }),
    );
  });
});

describe("building the response", () => {
  test("an allowed pod with changes: status 200, patchType JSONPatch and the base64 patch", () => {
    assert.deepEqual(admissionResponse(UID, { allowed: true, patch: PATCH }), {
      uid: UID,
      allowed: true,
      status: { code: 200 },
      patchType: "JSONPatch",
      patch: Buffer.from(JSON.stringify(PATCH)).toString("base64"),
    });
  });

  test("an allowed pod without changes carries neither patch nor patchType", () => {
    const response = admissionResponse(UID, { allowed: true, patch: [] });
    assert.deepEqual(response, { uid: UID, allowed: true, status: { code: 200 } });
    assert.equal("patch" in response, false);
    assert.equal("patchType" in response, false);
  });

  test("a denial carries allowed false and the status code and message, and no patch", () => {
    const message = 'serviceaccounts "workload-sa" not found';
    assert.deepEqual(admissionResponse(UID, { allowed: false, code: 400, message }), {
      uid: UID,
      allowed: false,
      status: { code: 400, message },
    });
  });

  test("the review keeps the request's apiVersion and has kind AdmissionReview", () => {
    for (const apiVersion of [ADMISSION_V1, ADMISSION_V1BETA1] as const) {
      const review = admissionReviewResponse(
        apiVersion,
        admissionResponse(UID, { allowed: true, patch: [] }),
      );
      assert.equal(review.apiVersion, apiVersion);
      assert.equal(review.kind, "AdmissionReview");
      assert.equal(review.response.uid, UID);
    }
  });

  test("a body that is not a review is answered with an empty uid and the reason", () => {
    assert.deepEqual(unreviewableResponse(400, "request body is empty"), {
      apiVersion: ADMISSION_V1,
      kind: "AdmissionReview",
      response: { uid: "", allowed: false, status: { code: 400, message: "request body is empty" } },
    });
  });

  test("the patch is standard base64 with padding (not base64url) and decodes back to the operations", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ path: fc.string(), value: fc.jsonValue() }), { maxLength: 5 }),
        (items) => {
          const patch: JsonPatchOperation[] = items.map(({ path, value }) => ({
            op: "add",
            path: `/${path}`,
            value: value as JsonPatchOperation["value"],
          }));
          const encoded = encodePatch(patch);
          assert.match(encoded, /^[A-Za-z0-9+/]*={0,2}$/);
          assert.equal(encoded.length % 4, 0);
          assert.deepEqual(decodePatch(encoded), JSON.parse(JSON.stringify(patch)));
        },
      ),
    );
  });

  test("non-ASCII text in the patch is encoded as UTF-8", () => {
    const patch: JsonPatchOperation[] = [{ op: "add", path: "/metadata/x", value: "é☃𝄞" }];
    assert.equal(
      Buffer.from(encodePatch(patch), "base64").toString("utf8"),
      '[{"op":"add","path":"/metadata/x","value":"é☃𝄞"}]',
    );
  });
});
