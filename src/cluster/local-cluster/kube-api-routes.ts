import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { KubeError, type LocalCluster, type TokenRequestSpec } from "./local-cluster.ts";

// The local cluster's Kubernetes API, the subset wikit needs: namespaces, service accounts and the
// TokenRequest subresource, under `{prefix}/api/v1/…` with Kubernetes' object and Status shapes.

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

function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new KubeError(400, "BadRequest", "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== "string")
  ) {
    throw new KubeError(400, "BadRequest", `${field} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function metadataOf(body: Record<string, unknown>, pathName?: string) {
  const metadata = (body.metadata ?? {}) as Record<string, unknown>;
  const name = typeof metadata.name === "string" ? metadata.name : pathName;
  if (!name) throw new KubeError(422, "Invalid", "metadata.name: Required value: name is required");
  if (pathName && name !== pathName) {
    throw new KubeError(
      400,
      "BadRequest",
      `the name of the object (${name}) does not match the name on the URL (${pathName})`,
    );
  }
  return {
    name,
    labels: stringMap(metadata.labels, "metadata.labels"),
    annotations: stringMap(metadata.annotations, "metadata.annotations"),
  };
}

const list = (kind: string, items: unknown[]) => ({ apiVersion: "v1", kind, metadata: {}, items });

export function registerKubeApiRoutes(app: FastifyInstance, prefix: string, cluster: LocalCluster): void {
  const api = `${prefix}/api/v1`;

  app.get(
    `${api}/namespaces`,
    kubeHandler(async () => list("NamespaceList", await cluster.listNamespaces())),
  );
  app.post(
    `${api}/namespaces`,
    kubeHandler(async (_params, request, reply) => {
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
    kubeHandler(async ({ namespace = "" }) => cluster.getNamespace(namespace)),
  );
  app.delete(
    `${api}/namespaces/:namespace`,
    kubeHandler(async ({ namespace = "" }) => cluster.deleteNamespace(namespace)),
  );

  app.get(
    `${api}/serviceaccounts`,
    kubeHandler(async () => list("ServiceAccountList", await cluster.listServiceAccounts())),
  );
  app.get(
    `${api}/namespaces/:namespace/serviceaccounts`,
    kubeHandler(async ({ namespace = "" }) => {
      await cluster.getNamespace(namespace);
      return list("ServiceAccountList", await cluster.listServiceAccounts(namespace));
    }),
  );
  app.post(
    `${api}/namespaces/:namespace/serviceaccounts`,
    kubeHandler(async ({ namespace = "" }, request, reply) => {
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
    kubeHandler(async ({ namespace = "", name = "" }) => cluster.getServiceAccount(namespace, name)),
  );
  app.put(
    accountPath,
    kubeHandler(async ({ namespace = "", name = "" }, request, reply) => {
      const metadata = metadataOf(objectBody(request), name);
      const { object, created } = await cluster.putServiceAccount(namespace, name, metadata);
      if (created) reply.code(201);
      return object;
    }),
  );
  app.delete(
    accountPath,
    kubeHandler(async ({ namespace = "", name = "" }) => cluster.deleteServiceAccount(namespace, name)),
  );
  app.post(
    `${accountPath}/token`,
    kubeHandler(async ({ namespace = "", name = "" }, request, reply) => {
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
