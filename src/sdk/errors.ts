// The one error type the SDK throws: a server problem (RFC 9457) or a failure to get an answer at all.
import type { Static } from 'typebox';
import type { FieldErrorSchema, Problem } from '../api/schemas.ts';
import type { ErrorCode } from '../core/errors.ts';

export type FieldError = Static<typeof FieldErrorSchema>;

/** A problem body; the server may add members (quota name, limit, usage…). */
export type ProblemBody = Problem & Record<string, unknown>;

/** Codes the client itself produces when there is no problem body to read one from. */
export type ClientErrorCode =
  /** The server could not be reached (refused, reset, DNS…); `status` is 0. */
  | 'network_error'
  /** No complete answer within the timeout; `status` is 0. */
  | 'timeout'
  /** A success status whose body is not the JSON promised. */
  | 'invalid_response'
  /** An error status without a problem body (a proxy's HTML page, …). */
  | 'unexpected_response'
  /** An event stream closed, broke off or fell silent before its last event; `status` is 0. */
  | 'stream_interrupted';

// `string & {}` keeps editor completion for the known codes while accepting codes a newer server adds.
export type TenantmlErrorCode = ErrorCode | ClientErrorCode | (string & {});

export interface TenantmlErrorInit {
  status: number;
  code: TenantmlErrorCode;
  title: string;
  detail?: string;
  errors?: FieldError[];
  requestId?: string;
  retryAfterSeconds?: number;
  problem?: ProblemBody;
  cause?: unknown;
}

export class TenantmlError extends Error {
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  readonly code: TenantmlErrorCode;
  readonly title: string;
  readonly detail: string;
  /** Field-level errors (body path, column, line, row index); empty when there are none. */
  readonly errors: FieldError[];
  readonly requestId: string | undefined;
  /** From `Retry-After`, when the server sent one (rate limits). */
  readonly retryAfterSeconds: number | undefined;
  /** The full problem body, with any extra members (quota name, limit…). */
  readonly problem: ProblemBody | undefined;

  constructor(init: TenantmlErrorInit) {
    const detail = init.detail ?? init.title;
    super(`${init.code}: ${detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TenantmlError';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = detail;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.problem = init.problem;
  }
}

export const isTenantmlError = (e: unknown): e is TenantmlError => e instanceof TenantmlError;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldErrors(raw: unknown): FieldError[] {
  if (!Array.isArray(raw)) return [];
  const out: FieldError[] = [];
  for (const item of raw) {
    if (!isObject(item)) continue;
    const e: FieldError = {
      field: typeof item.field === 'string' ? item.field : '',
      message: typeof item.message === 'string' ? item.message : String(item.message ?? ''),
    };
    if (typeof item.line === 'number') e.line = item.line;
    if (typeof item.index === 'number') e.index = item.index;
    out.push(e);
  }
  return out;
}

function retryAfter(headers: Headers): number | undefined {
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** Builds the error for a non-2xx answer from its status, headers and (already read) body text. */
export function errorFromResponse(
  status: number,
  statusText: string,
  headers: Headers,
  bodyText: string,
): TenantmlError {
  const headerRequestId = headers.get('x-request-id') ?? undefined;
  let body: unknown;
  try {
    body = bodyText === '' ? undefined : JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (isObject(body) && typeof body.code === 'string') {
    const title = typeof body.title === 'string' ? body.title : statusText || `HTTP ${status}`;
    return new TenantmlError({
      status: typeof body.status === 'number' ? body.status : status,
      code: body.code,
      title,
      detail: typeof body.detail === 'string' ? body.detail : undefined,
      errors: fieldErrors(body.errors),
      requestId: typeof body.requestId === 'string' ? body.requestId : headerRequestId,
      retryAfterSeconds: retryAfter(headers),
      problem: body as ProblemBody,
    });
  }
  // Not one of ours: a proxy page, a plain-text error, an empty body. Show a short, single-line excerpt.
  const excerpt = bodyText.replace(/\s+/g, ' ').trim().slice(0, 200);
  const title = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return new TenantmlError({
    status,
    code: 'unexpected_response',
    title,
    detail: excerpt ? `${title}: ${excerpt}` : `${title} without a problem body`,
    requestId: headerRequestId,
    retryAfterSeconds: retryAfter(headers),
  });
}

/** Describes a failed fetch (no HTTP answer) with the most useful cause, e.g. `ECONNREFUSED`. */
export function networkError(url: string, cause: unknown): TenantmlError {
  let reason = cause instanceof Error ? cause.message : String(cause);
  const inner = cause instanceof Error ? cause.cause : undefined;
  if (isObject(inner) || inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    const message = (inner as { message?: unknown }).message;
    if (typeof code === 'string') reason = code;
    else if (typeof message === 'string' && message) reason = message;
  }
  // Node's fetch gives up on its own after long silences (5 min for headers); that is a timeout too.
  if (/^UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT$/.test(reason)) {
    return new TenantmlError({
      status: 0,
      code: 'timeout',
      title: 'The request timed out',
      detail: `${url} sent no answer in time (${reason})`,
      cause,
    });
  }
  return new TenantmlError({
    status: 0,
    code: 'network_error',
    title: 'The server could not be reached',
    detail: `could not reach ${url}: ${reason}`,
    cause,
  });
}
