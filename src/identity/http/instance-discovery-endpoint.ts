// `GET /common/discovery/instance` (reference/entra.md §8.4), which MSAL calls before trusting an authority.

import type { FastifyInstance } from "fastify";
import { AadstsError } from "../exchange/aadsts-errors.ts";
import { instanceDiscovery } from "./tenant-metadata.ts";

/** The authority (origin) the service answers as for a host name, or undefined for hosts it does not serve. */
export type AuthorityResolver = (hostname: string) => string | undefined;

export function registerInstanceDiscoveryEndpoint(app: FastifyInstance, authorityFor: AuthorityResolver) {
  app.get("/common/discovery/instance", async (request) => {
    const { authorization_endpoint: endpoint = "" } = request.query as Record<string, string | undefined>;
    const answer = instanceDiscovery(endpoint, authorityFor);
    if (!answer) throw new AadstsError(50049);
    return answer;
  });
}
