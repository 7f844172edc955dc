import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Guards the management API: the caller must present the admin credential that `wikit up` wrote
 * into the data directory, as `Authorization: Bearer <credential>`. Compared in constant time.
 */
export function adminAuthentication(adminToken: string) {
  const expected = digest(adminToken);
  return async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (!header) {
      reply.code(401).header("www-authenticate", 'Bearer realm="wikit management"');
      return reply.send({
        error: {
          code: "AuthenticationFailed",
          message:
            "Authentication failed. The 'Authorization' header is missing. Send the admin credential from the data directory's admin-token file as a Bearer token.",
        },
      });
    }
    const presented = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? "";
    if (!timingSafeEqual(digest(presented), expected)) {
      reply.code(401).header("www-authenticate", 'Bearer realm="wikit management", error="invalid_token"');
      return reply.send({
        error: {
          code: "InvalidAuthenticationToken",
          message: "The access token is invalid: it is not this server's admin credential.",
        },
      });
    }
  };
}
