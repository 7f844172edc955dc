import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createBodyValidation } from "../../json/body-schema.ts";
import { isPlainObject } from "../../json/json-value.ts";
import { KubeError, type LocalCluster, type TokenRequestSpec } from "./local-cluster.ts";

// The local clusters' Kubernetes API, the subset wikit needs: namespaces, service accounts and the
// TokenRequest subresource, under `{prefix}/api/v1/…` with Kubernetes' object and Status shapes; `prefix` may hold
// parameters (`/clusters/:cluster`) from which `clusterOf` finds the cluster.

type Params = Record<string, string>;

function kubeHandler(
  handler: (params: Params, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return reply.send(await handler(request.params as Params, request, reply));
    } catch (error) {
      if (error instanceof KubeError) return reply.code(error.code).send(error.toStatus());
      throw error;
    }
  };
}

// Each (sub)schema declares, as `kubeError`, the Kubernetes `Status` its value's failure answers with.
const kubeBodies = createBodyValidation<KubeError>({
  keyword: "kubeError",
  declaredError: (declared) =>
    isPlainObject(declared) &&
    typeof declared.code === "number" &&
    typeof declared.reason === "string" &&
    typeof declared.message === "string"
      ? new KubeError(declared.code, declared.reason, declared.message)
      : undefined,
  undeclaredError: (failure) =>
    new KubeError(
      400,
      "BadRequest",
      `${failure?.instancePath || "the request body"} ${failure?.message ?? "is not valid"}`,
    ),
});

const badRequest = (message: string) => ({ code: 400, reason: "BadRequest", message });

/** Every body these routes read (a Namespace, a ServiceAccount, a TokenRequest) is a JSON object. */
const KUBE_OBJECT_BODY = {
  type: "object",
  kubeError: badRequest("the request body must be a JSON object"),
};

const stringMap = (field: string) => {
  const error = badRequest(`${field} must map strings to strings`);
  return {
    type: "object",
    nullable: true,
    kubeError: error,
    additionalProperties: { type: "string", kubeError: error },
  };
};

// Checked apart from the body's schema, after the name: a body with no name and bad labels has always been
// answered with the name's 422. Labels are checked before annotations, as before.
const checkMetadataMaps = kubeBodies.valueCheck({
  type: "object",
  properties: { labels: stringMap("metadata.labels"), annotations: stringMap("metadata.annotations") },
});

/** The body its route's schema accepted: a JSON object, else the schema's 400 is thrown. */
function objectBody(request: FastifyRequest): Record<string, unknown> {
  return kubeBodies.validatedBody(request) as Record<string, unknown>;
}

function metadataOf(body: Record<string, unknown>, pathName?: string) {
  // Metadata that is not an object names nothing, so the URL's name (if any) is used.
  const metadata = isPlainObject(body.metadata) ? body.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : pathName;
  if (!name) throw new KubeError(422, "Invalid", "metadata.name: Required value: name is required");
  if (pathName && name !== pathName) {
    throw new KubeError(
      400,
      "BadRequest",
      `the name of the object (${name}) does not match the name on the URL (${pathName})`,
    );
  }
  checkMetadataMaps(metadata);
  return {
    name,
    labels: (metadata.labels ?? undefined) as Record<string, string> | undefined,
    annotations: (metadata.annotations ?? undefined) as Record<string, string> | undefined,
  };
}

const list = (kind: string, items: unknown[]) => ({ apiVersion: "v1", kind, metadata: {}, items });

export function registerKubeApiRoutes(
  app: FastifyInstance,
  prefix: string,
  clusterOf: (params: Params) => LocalCluster | undefined,
): void {
  const api = `${prefix}/api/v1`;
  /** A route of one cluster: the one the path names, or the apiserver's 404 when there is none. */
  const handle = (
    handler: (
      cluster: LocalCluster,
      params: Params,
      request: FastifyRequest,
      reply: FastifyReply,
    ) => Promise<unknown>,
  ) =>
    kubeHandler(async (params, request, reply) => {
      const cluster = clusterOf(params);
      if (!cluster) throw new KubeError(404, "NotFound", "the server could not find the requested resource");
      return handler(cluster, params, request, reply);
    });

  app.get(
    `${api}/namespaces`,
    handle(async (cluster) => list("NamespaceList", await cluster.listNamespaces())),
  );
  app.post(
    `${api}/namespaces`,
    kubeBodies.bodySchema(KUBE_OBJECT_BODY),
    handle(async (cluster, _params, request, reply) => {
      const { name, labels } = metadataOf(objectBody(request));
      const { object, created } = await cluster.putNamespace(name, labels);
      if (!created)
        throw new KubeError(409, "AlreadyExists", `namespaces "${name}" already exists`, {
          name,
          kind: "namespaces",
        });
      reply.code(201);
      return object;
    }),
  );
  app.get(
    `${api}/namespaces/:namespace`,
    handle(async (cluster, { namespace = "" }) => cluster.getNamespace(namespace)),
  );
  app.delete(
    `${api}/namespaces/:namespace`,
    handle(async (cluster, { namespace = "" }) => cluster.deleteNamespace(namespace)),
  );

  app.get(
    `${api}/serviceaccounts`,
    handle(async (cluster) => list("ServiceAccountList", await cluster.listServiceAccounts())),
  );
  app.get(
    `${api}/namespaces/:namespace/serviceaccounts`,
    handle(async (cluster, { namespace = "" }) => {
      await cluster.getNamespace(namespace);
      return list("ServiceAccountList", await cluster.listServiceAccounts(namespace));
    }),
  );
  app.post(
    `${api}/namespaces/:namespace/serviceaccounts`,
    kubeBodies.bodySchema(KUBE_OBJECT_BODY),
    handle(async (cluster, { namespace = "" }, request, reply) => {
      const { name, labels, annotations } = metadataOf(objectBody(request));
      await cluster.getNamespace(namespace);
      const exists = await cluster.getServiceAccount(namespace, name).then(
        () => true,
        () => false,
      );
      if (exists) {
        throw new KubeError(409, "AlreadyExists", `serviceaccounts "${name}" already exists`, {
          name,
          kind: "serviceaccounts",
        });
      }
      reply.code(201);
      return (await cluster.putServiceAccount(namespace, name, { labels, annotations })).object;
    }),
  );
  const accountPath = `${api}/namespaces/:namespace/serviceaccounts/:name`;
  app.get(
    accountPath,
    handle(async (cluster, { namespace = "", name = "" }) => cluster.getServiceAccount(namespace, name)),
  );
  app.put(
    accountPath,
    kubeBodies.bodySchema(KUBE_OBJECT_BODY),
    handle(async (cluster, { namespace = "", name = "" }, request, reply) => {
      const metadata = metadataOf(objectBody(request), name);
      const { object, created } = await cluster.putServiceAccount(namespace, name, metadata);
      if (created) reply.code(201);
      return object;
    }),
  );
  app.delete(
    accountPath,
    handle(async (cluster, { namespace = "", name = "" }) => cluster.deleteServiceAccount(namespace, name)),
  );
  app.post(
    `${accountPath}/token`,
    kubeBodies.bodySchema(KUBE_OBJECT_BODY),
    handle(async (cluster, { namespace = "", name = "" }, request, reply) => {
      const spec = (objectBody(request).spec ?? {}) as TokenRequestSpec;
      const { token, expirationTimestamp, spec: granted } = await cluster.requestToken(namespace, name, spec);
      reply.code(201);
      return {
        kind: "TokenRequest",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { name, namespace, creationTimestamp: null },
        spec: granted,
        status: { token, expirationTimestamp },
      };
    }),
  );
}
