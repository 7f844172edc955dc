// Fastify validates a route's body with this Ajv instance and attaches a failure to the request instead of
// answering it, so that each handler raises it at the point it reads the body: after `api-version`, and
// only on the paths that have a body (one wildcard route also serves read-only role definitions).

import { Ajv, type ErrorObject, type SchemaObject } from "ajv";
import type { FastifyRequest, FastifySchemaCompiler, RouteGenericInterface } from "fastify";
import { badRequest, DirectoryError } from "../identity/directory/directory-error.ts";
import { isPlainObject } from "../json/json-value.ts";

// No type coercion (a tag value 1 is an error, not "1"), no defaults, no removed members: the body is
// checked as sent. `verbose` gives each error its schema, which names the ARM error to answer with.
const ajv = new Ajv({ verbose: true, keywords: ["armError"] });

/** The ARM error for the first failure, as named by the failing schema's `armError`. */
function armErrorOf(errors: readonly ErrorObject[]): DirectoryError {
  const [first] = errors;
  const named: unknown = first?.parentSchema?.armError;
  if (isPlainObject(named) && typeof named.code === "string" && typeof named.message === "string") {
    return badRequest(named.code, named.message);
  }
  const where = first?.instancePath || "the request content";
  return badRequest(
    "InvalidRequestContent",
    `The request content is not valid: ${where} ${first?.message ?? ""}`,
  );
}

const validatorCompiler: FastifySchemaCompiler<SchemaObject> = ({ schema }) => {
  const validate = ajv.compile(schema);
  return (data: unknown) => validate(data) || { error: armErrorOf(validate.errors ?? []) };
};

/** Route options that have Fastify validate the body against `schema` and attach any failure. */
export function bodySchema(schema: SchemaObject) {
  return { schema: { body: schema }, attachValidation: true, validatorCompiler };
}

/** The body its route's schema accepted; throws the schema's ARM error when it did not. */
export function validatedBody<Route extends RouteGenericInterface>(
  request: FastifyRequest<Route>,
): FastifyRequest<Route>["body"] {
  const failure = request.validationError;
  if (failure) {
    throw failure instanceof DirectoryError ? failure : badRequest("InvalidRequestContent", failure.message);
  }
  return request.body;
}
