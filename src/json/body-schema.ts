// Request bodies checked against JSON schemas whose (sub)schemas each declare, under one keyword, the error
// their value's failure answers with, so that an API keeps the exact texts its clients know. Fastify
// validates a route's body with these schemas and attaches a failure to the request instead of answering
// it, so that each handler raises it at the point it reads the body (after its own earlier checks).

import { Ajv, type ErrorObject, type SchemaObject } from "ajv";
import type { FastifyRequest, FastifySchemaCompiler, RouteGenericInterface } from "fastify";

/** How an API turns a schema's declared error, or a failure no schema declares, into its own error. */
export interface DeclaredErrors<E extends Error> {
  /** The schema keyword that holds a (sub)schema's declared error, e.g. `armError`. */
  keyword: string;
  /** The API's error for a declared value; `undefined` when the value is not a well-formed declaration. */
  declaredError(declared: unknown): E | undefined;
  /** The API's error for a failure whose schema declares none (a gap in the schema). */
  undeclaredError(failure: ErrorObject | undefined): E;
}

/** Schema validation that answers with the first failing (sub)schema's declared error. */
export function createBodyValidation<E extends Error>(errors: DeclaredErrors<E>) {
  // No type coercion (1 is not "1"), no defaults, no removed members: the body is checked as sent.
  // `verbose` gives each failure its schema, which declares the error to answer with; Ajv stops at the
  // first failure, so the first rule broken (in schema order) is the one answered.
  const ajv = new Ajv({ verbose: true, keywords: [errors.keyword] });

  function errorOf(failures: readonly ErrorObject[] | null | undefined): E {
    const [first] = failures ?? [];
    return errors.declaredError(first?.parentSchema?.[errors.keyword]) ?? errors.undeclaredError(first);
  }

  const validatorCompiler: FastifySchemaCompiler<SchemaObject> = ({ schema }) => {
    const validate = ajv.compile(schema);
    // A new error per failure: Fastify sets `statusCode` and `validationContext` on the one it attaches.
    return (data: unknown) => validate(data) || { error: errorOf(validate.errors) };
  };

  return {
    /** Route options that have Fastify validate the body against `schema` and attach any failure. */
    bodySchema(schema: SchemaObject) {
      return { schema: { body: schema }, attachValidation: true, validatorCompiler };
    },

    /** The body its route's schema accepted; throws the schema's declared error when it did not. */
    validatedBody<Route extends RouteGenericInterface>(
      request: FastifyRequest<Route>,
    ): FastifyRequest<Route>["body"] {
      // The compiler above only ever attaches an `E`; anything else (a validator that threw) goes on as is.
      if (request.validationError) throw request.validationError;
      return request.body;
    },

    /** A check of any value (not a body) against `schema`, throwing its declared error, for a handler to
     *  run at the point its API has always checked that value. */
    valueCheck(schema: SchemaObject): (value: unknown) => void {
      const validate = ajv.compile(schema);
      return (value) => {
        if (!validate(value)) throw errorOf(validate.errors);
      };
    },
  };
}
