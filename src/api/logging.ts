// The server's request logging. Fastify writes an "incoming request" and a "request completed" line for
// every request at info — two synchronous writes that cost the predict path about a quarter of its
// throughput, and a line for every refusal of a tenant flooding past its limits. Here the per-request
// line is one "request completed" at debug (an errored request still at error).
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** Fastify's internal request lines: none on arrival, one at debug on completion (error if it errored). */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const ms = Math.round(reply.elapsedTime * 100) / 100;
    if (error) reply.log.error({ req: request, res: reply, err: error, ms }, 'request errored');
    else reply.log.debug({ req: request, res: reply, ms }, 'request completed');
  }
}
