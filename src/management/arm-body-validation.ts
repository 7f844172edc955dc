// The management API's PUT bodies are checked against arm-body-schemas.ts, whose (sub)schemas each declare,
// as `armError`, the ARM error their value's failure answers with. Each handler raises a failure at the
// point it reads the body: after `api-version`, and only on the paths that have a body (one wildcard route
// also serves read-only role definitions).

import { badRequest, type DirectoryError } from "../identity/directory/directory-error.ts";
import { createBodyValidation } from "../json/body-schema.ts";
import { isPlainObject } from "../json/json-value.ts";

export const { bodySchema, validatedBody } = createBodyValidation<DirectoryError>({
  keyword: "armError",
  declaredError: (declared) =>
    isPlainObject(declared) && typeof declared.code === "string" && typeof declared.message === "string"
      ? badRequest(declared.code, declared.message)
      : undefined,
  undeclaredError: (failure) =>
    badRequest(
      "InvalidRequestContent",
      `The request content is not valid: ${failure?.instancePath || "the request content"} ${failure?.message ?? ""}`,
    ),
});
