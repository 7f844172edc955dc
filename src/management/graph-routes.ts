// The directory in Microsoft Graph's shape (`/v1.0/…`): applications, their federated identity credentials and
// service principals, as `az ad` and Graph SDKs call them. Lists take `$filter` (graph-filter.ts); creates answer
// 201 with the object, updates and deletes 204; errors are Graph's `{"error":{"code","message","innerError"}}`.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppRegistrations, GraphObject } from "../identity/directory/app-registrations.ts";
import { DirectoryError } from "../identity/directory/directory-error.ts";
import { graphErrorBody } from "./graph-access.ts";
import { GraphFilterError, parseGraphFilter } from "./graph-filter.ts";

export const GRAPH_VERSION_PATH = "/v1.0";

export interface GraphRouteDeps {
  apps: AppRegistrations;
  /** The tenant the authenticated request works in. */
  tenantOf(request: FastifyRequest): string;
}

type Params = Record<string, string>;
type GraphAction = (
  tenant: string,
  params: Params,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<unknown>;

/** Graph's codes for the directory's rule violations that carry ARM-style codes. */
const GRAPH_CODES: Readonly<Record<number, string>> = {
  400: "Request_BadRequest",
  404: "Request_ResourceNotFound",
  409: "Request_MultipleObjectsWithSameKeyValue",
};

function graphHandler(deps: GraphRouteDeps, action: GraphAction) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const result = await action(deps.tenantOf(request), request.params as Params, request, reply);
      if (!reply.sent) return reply.send(result);
    } catch (error) {
      if (error instanceof DirectoryError) {
        const code = /^(Request|Authorization)_/.test(error.code)
          ? error.code
          : (GRAPH_CODES[error.status] ?? error.code);
        return reply.code(error.status).send(graphErrorBody(request, code, error.message));
      }
      if (error instanceof GraphFilterError) {
        return reply.code(400).send(graphErrorBody(request, error.code, error.message));
      }
      throw error;
    }
  };
}

/** What Graph does with one collection of objects (the parent's ID, when nested, is `parent`). */
interface ObjectCollection {
  /** The collection's `@odata.context` name. */
  context(params: Params): string;
  list(tenant: string, params: Params): Promise<GraphObject[]>;
  create(tenant: string, params: Params, body: unknown): Promise<GraphObject>;
  get(tenant: string, params: Params): Promise<GraphObject>;
  update(tenant: string, params: Params, body: unknown): Promise<unknown>;
  delete(tenant: string, params: Params): Promise<void>;
}

export function registerGraphRoutes(app: FastifyInstance, deps: GraphRouteDeps): void {
  const { apps } = deps;
  const handle = (action: GraphAction) => graphHandler(deps, action);
  const context = (request: FastifyRequest, what: string) =>
    `https://${request.headers.host}${GRAPH_VERSION_PATH}/$metadata#${what}`;

  /** GET and POST on `path`; GET, PATCH and DELETE on `path/:member`, with Graph's status codes and contexts. */
  const serve = (path: string, member: string, objects: ObjectCollection) => {
    const entity = (request: FastifyRequest, params: Params, object: GraphObject) => ({
      "@odata.context": context(request, `${objects.context(params)}/$entity`),
      ...object,
    });
    app.get(
      path,
      handle(async (tenant, params, request) => {
        const { $filter: filter } = request.query as Record<string, string | undefined>;
        const predicate = filter === undefined ? undefined : parseGraphFilter(filter);
        const all = await objects.list(tenant, params);
        return {
          "@odata.context": context(request, objects.context(params)),
          value: predicate ? all.filter(predicate) : all,
        };
      }),
    );
    app.post(
      path,
      handle(async (tenant, params, request, reply) => {
        const created = await objects.create(tenant, params, request.body);
        reply.code(201);
        return entity(request, params, created);
      }),
    );
    const one = `${path}/:${member}`;
    app.get(
      one,
      handle(async (tenant, params, request) => entity(request, params, await objects.get(tenant, params))),
    );
    app.patch(
      one,
      handle(async (tenant, params, request, reply) => {
        await objects.update(tenant, params, request.body);
        reply.code(204);
      }),
    );
    app.delete(
      one,
      handle(async (tenant, params, _request, reply) => {
        await objects.delete(tenant, params);
        reply.code(204);
      }),
    );
  };

  const applications = `${GRAPH_VERSION_PATH}/applications`;
  serve(applications, "id", {
    context: () => "applications",
    list: (tenant) => apps.listApplications(tenant),
    create: (tenant, _params, body) => apps.createApplication(tenant, body),
    get: (tenant, { id = "" }) => apps.getApplication(tenant, id),
    update: (tenant, { id = "" }, body) => apps.updateApplication(tenant, id, body),
    delete: (tenant, { id = "" }) => apps.deleteApplication(tenant, id),
  });
  serve(`${applications}/:id/federatedIdentityCredentials`, "credential", {
    context: ({ id = "" }) => `applications('${id}')/federatedIdentityCredentials`,
    list: (tenant, { id = "" }) => apps.listApplicationCredentials(tenant, id),
    create: (tenant, { id = "" }, body) => apps.putApplicationCredential(tenant, id, body),
    get: (tenant, { id = "", credential = "" }) => apps.getApplicationCredential(tenant, id, credential),
    update: (tenant, { id = "", credential = "" }, body) =>
      apps.putApplicationCredential(tenant, id, body, credential),
    delete: (tenant, { id = "", credential = "" }) =>
      apps.deleteApplicationCredential(tenant, id, credential),
  });
  serve(`${GRAPH_VERSION_PATH}/servicePrincipals`, "id", {
    context: () => "servicePrincipals",
    list: (tenant) => apps.listServicePrincipals(tenant),
    create: (tenant, _params, body) => apps.createServicePrincipal(tenant, body),
    get: (tenant, { id = "" }) => apps.getServicePrincipal(tenant, id),
    update: (tenant, { id = "" }, body) => apps.updateServicePrincipal(tenant, id, body),
    delete: (tenant, { id = "" }) => apps.deleteServicePrincipal(tenant, id),
  });
}
