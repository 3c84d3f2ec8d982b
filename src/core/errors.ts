// The one registry of error codes. Every error a route answers is thrown from here, so that the
// code, its HTTP status and its title are declared once (a test checks each is documented in docs/errors.md).

export const ERRORS = {
  // 400
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_body: { status: 400, title: 'The request body could not be parsed' },
  empty_body: { status: 400, title: 'The request body is empty' },
  invalid_encoding: { status: 400, title: 'The request body is not valid UTF-8' },
  dataset_parse_error: { status: 400, title: 'The dataset could not be parsed' },
  invalid_name: { status: 400, title: 'The name is not allowed' },
  tenant_header_required: { status: 400, title: 'The operator key must name a tenant in X-Tenant-Id' },
  // 401 / 403
  unauthenticated: { status: 401, title: 'Missing or invalid credentials' },
  forbidden: { status: 403, title: 'This key may not do that' },
  // 402
  budget_exceeded: { status: 402, title: 'The tenant budget is exhausted' },
  // 404 / 405 / 409
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'The resource already exists or changed' },
  // 413 / 415 / 422 / 429
  body_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  quota_exceeded: { status: 422, title: 'A tenant quota would be exceeded' },
  unprocessable: { status: 422, title: 'The request cannot be carried out on this data' },
  rate_limited: { status: 429, title: 'Too many requests' },
  queue_full: { status: 429, title: 'The tenant’s job queue is full' },
  // 5xx
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'The service is not ready' },
  overloaded: { status: 503, title: 'The server is saturated; retry later' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One offending field of a request: a JSON pointer-like path, or a column/line of a dataset. */
export interface FieldError {
  field: string;
  message: string;
  line?: number;
  index?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors?: FieldError[];
  /** Extra members for the problem body (quota name, limit, usage…); ids only, never tenant data. */
  readonly extra?: Record<string, unknown>;
  /** Response headers to add (Retry-After, …). */
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail?: string,
    opts: { errors?: FieldError[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
    this.errors = opts.errors;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} was not found`);

export function invalid(field: string, message: string): AppError {
  return invalidFields([{ field, message }]);
}

/** `validation_failed` naming every offending field; the detail joins them. */
export function invalidFields(errors: FieldError[]): AppError {
  return new AppError('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {
    errors,
  });
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
