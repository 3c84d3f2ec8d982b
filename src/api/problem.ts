// Turns every error into an RFC 9457 problem document with a stable `code` from the registry, so that
// clients never see a stack trace, an HTML page or a bare 500 for bad input.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode, type FieldError, invalidFields } from '../core/errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Maps a schema-validation failure to field errors that name each offending field. */
function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  return validation.map((v) => {
    const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let field = base;
    const p = v.params ?? {};
    if (v.keyword === 'required' && typeof p.missingProperty === 'string') {
      field = base ? `${base}.${p.missingProperty}` : p.missingProperty;
    } else if (v.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
      field = base ? `${base}.${p.additionalProperty}` : p.additionalProperty;
      return { field, message: 'is not a known field' };
    }
    if (!field) field = context ?? 'body';
    return { field, message: v.message ?? 'is invalid' };
  });
}

/** Fastify's own error codes that are the client's fault, and what they mean to us. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'malformed_body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_body',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
};

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & { validationContext?: string; type?: string };
  if (fe && Array.isArray(fe.validation)) {
    const errors = fieldErrors(fe.validation as AjvError[], fe.validationContext);
    return invalidFields(errors);
  }
  if (fe?.code && FASTIFY_CODES[fe.code]) {
    const code = FASTIFY_CODES[fe.code];
    return new AppError(code, code === 'malformed_body' ? 'the body is not valid JSON' : undefined);
  }
  if (fe instanceof SyntaxError || fe?.type === 'entity.parse.failed') {
    return new AppError('malformed_body', 'the body is not valid JSON');
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus = (Object.keys(ERRORS) as ErrorCode[]).find((c) => ERRORS[c].status === fe.statusCode);
    return new AppError(byStatus ?? 'validation_failed', fe.message);
  }
  return new AppError('internal', 'an internal error occurred; it has been logged with the request id');
}

export function problemBody(e: AppError, req: FastifyRequest): Record<string, unknown> {
  return {
    type: `/problems/${e.code}`,
    title: e.title,
    status: e.status,
    code: e.code,
    detail: e.message,
    instance: req.url.split('?')[0],
    requestId: req.id,
    ...(e.errors ? { errors: e.errors } : {}),
    ...(e.extra ?? {}),
  };
}

/**
 * Refusals a flood repeats on every request (rate limits, shedding, an exhausted budget): logged at debug,
 * so that a tenant over its limits cannot fill the log or spend the server's time writing it; they are
 * counted in /metrics (tenantml_admission_rate_limited_total, tenantml_admission_shed_total,
 * tenantml_http_requests_total by status).
 */
const FLOOD_REFUSALS: ReadonlySet<string> = new Set(['rate_limited', 'overloaded', 'budget_exceeded']);

export function sendProblem(reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply {
  const e = toAppError(err);
  if (e.code === 'internal') req.log.error({ err }, 'internal error');
  else if (FLOOD_REFUSALS.has(e.code)) req.log.debug({ code: e.code, status: e.status }, 'request refused');
  else req.log.info({ code: e.code, status: e.status }, 'request refused');
  for (const [k, v] of Object.entries(e.headers ?? {})) reply.header(k, v);
  return reply.code(e.status).type(PROBLEM_TYPE).send(problemBody(e, req));
}
