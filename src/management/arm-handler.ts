import type { FastifyReply, FastifyRequest } from "fastify";
import { DirectoryError } from "../identity/directory/directory-error.ts";

export type ArmParams = Record<string, string>;
export type ArmAction<Body = unknown> = (
  params: ArmParams,
  request: FastifyRequest<{ Body: Body }>,
  reply: FastifyReply,
) => Promise<unknown>;

/**
 * Wraps a management route with what every ARM call shares: `api-version` is required, and directory rule
 * violations (body schema failures among them) are answered as ARM error bodies with their status.
 */
export function armHandler<Body = unknown>(action: ArmAction<Body>) {
  return async (request: FastifyRequest<{ Body: Body }>, reply: FastifyReply) => {
    const query = request.query as Record<string, string | undefined>;
    if (!query["api-version"]) {
      return reply.code(400).send({
        error: {
          code: "MissingApiVersionParameter",
          message: "The api-version query parameter (?api-version=) is required for all requests.",
        },
      });
    }
    try {
      const result = await action(request.params as ArmParams, request, reply);
      if (!reply.sent) return reply.send(result);
    } catch (error) {
      if (error instanceof DirectoryError) return reply.code(error.status).send(error.toBody());
      throw error;
    }
  };
}
