// The one request path every SDK method goes through: URL and headers from the route table, timeouts,
// JSON or streamed bodies, and every failure turned into a TenantmlError.
import { errorFromResponse, networkError, TenantmlError } from './errors.ts';
import { fillPath, type PathParams, type Route } from './routes.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type QueryValue = string | number | boolean | undefined | null;

export interface CallOptions {
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call; 0 waits forever. */
  timeoutMs?: number;
}

export interface RequestInitFor<P extends string> extends CallOptions {
  params?: PathParams<P>;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`; a stream is sent chunk by chunk. */
  body?: string | Uint8Array | Blob | ReadableStream<Uint8Array>;
  contentType?: string;
  /**
   * `none`: the answer carries no body worth reading (204 routes); anything sent is ignored.
   * `bytes`: a binary answer (a model file), returned as a Uint8Array; errors are still problem documents.
   */
  response?: 'json' | 'none' | 'bytes';
}

export interface TransportOptions {
  baseUrl: string;
  apiKey?: string;
  tenantId?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export class Transport {
  readonly baseUrl: string;
  readonly tenantId: string | undefined;
  readonly timeoutMs: number;
  readonly #apiKey: string | undefined;
  readonly #fetch: FetchLike;
  readonly #headers: Record<string, string>;

  constructor(opts: TransportOptions) {
    if (typeof opts.baseUrl !== 'string' || !/^https?:\/\//i.test(opts.baseUrl)) {
      throw new TypeError(`baseUrl must be an http:// or https:// URL (got ${JSON.stringify(opts.baseUrl)})`);
    }
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.tenantId = opts.tenantId || undefined;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#apiKey = opts.apiKey || undefined;
    // Bound so that a browser's window.fetch is not called with the wrong `this`.
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = { ...opts.headers };
  }

  /** The same connection settings acting on another tenant (operator keys). */
  withTenant(tenantId: string | undefined): Transport {
    return new Transport({
      baseUrl: this.baseUrl,
      apiKey: this.#apiKey,
      tenantId,
      fetch: this.#fetch,
      timeoutMs: this.timeoutMs,
      headers: this.#headers,
    });
  }

  url<P extends string>(route: Route<P>, params?: PathParams<P>, query?: Record<string, QueryValue>): string {
    let url = this.baseUrl + fillPath(route.path, (params ?? {}) as PathParams<P>);
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) search.append(k, String(v));
    }
    const qs = search.toString();
    if (qs) url += `?${qs}`;
    return url;
  }

  headersFor(route: Route, contentType?: string, accept?: string): Record<string, string> {
    const headers: Record<string, string> = {
      accept: accept ?? 'application/json, application/problem+json',
      ...this.#headers,
    };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (route.scope === 'tenant' && this.tenantId) headers['x-tenant-id'] = this.tenantId;
    if (contentType) headers['content-type'] = contentType;
    return headers;
  }

  async request<T, P extends string = string>(route: Route<P>, init: RequestInitFor<P> = {}): Promise<T> {
    const binary = init.response === 'bytes';
    const url = this.url(route, init.params, init.query);
    let body: string | Uint8Array | Blob | ReadableStream<Uint8Array> | undefined = init.body;
    let contentType = init.contentType;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      contentType = 'application/json';
    }
    const streaming = typeof (body as ReadableStream | undefined)?.getReader === 'function';

    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [init.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];

    const requestInit: RequestInit & { duplex?: 'half' } = {
      method: route.method,
      headers: this.headersFor(
        route,
        contentType,
        binary ? 'application/octet-stream, application/problem+json' : undefined,
      ),
      body,
      signal,
    };
    if (streaming) {
      requestInit.duplex = 'half';
      // Fetch clones a request that may be redirected, and cloning tees a stream body: the unread branch
      // then holds every byte sent (the whole upload in memory). A request that refuses redirects and has
      // no window is not cloned, so the body flows through in constant memory.
      requestInit.redirect = 'error';
      requestInit.window = null;
    }

    let res: Response;
    let text = '';
    let bytes: Uint8Array | undefined;
    try {
      res = await this.#fetch(url, requestInit);
      // A binary success is read as bytes (text decoding would corrupt it); anything else as text.
      if (binary && res.ok) bytes = new Uint8Array(await res.arrayBuffer());
      else text = await res.text();
    } catch (e) {
      if (init.signal?.aborted) throw init.signal.reason;
      if (timeout?.aborted) throw timeoutError(route, `got no complete answer within ${timeoutMs} ms`, e);
      throw networkError(this.baseUrl, e);
    }

    if (!res.ok) throw errorFromResponse(res.status, res.statusText, res.headers, text);
    if (init.response === 'none') return undefined as T;
    if (bytes !== undefined) return bytes as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new TenantmlError({
        status: res.status,
        code: 'invalid_response',
        title: 'The answer is not JSON',
        detail: `${route.method} ${route.path} answered ${res.status} with a body that is not JSON`,
        requestId: res.headers.get('x-request-id') ?? undefined,
        cause: e,
      });
    }
  }

  /**
   * Opens a streamed answer (server-sent events) and returns it once its headers arrived, body unread.
   * The timeout covers only the wait for the headers: a stream may rightly last longer than any timeout.
   * The caller's signal, or cancelling the body, closes the connection. An error status is read whole
   * and thrown as a TenantmlError, like `request`.
   */
  async stream<P extends string = string>(
    route: Route<P>,
    init: StreamInitFor<P> = {},
  ): Promise<Response & { body: ReadableStream<Uint8Array> }> {
    const url = this.url(route, init.params, init.query);
    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    const headersTimer = new AbortController();
    const signal = init.signal ? AbortSignal.any([init.signal, headersTimer.signal]) : headersTimer.signal;
    const timer = timeoutMs > 0 ? setTimeout(() => headersTimer.abort(), timeoutMs) : undefined;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method: route.method,
        headers: this.headersFor(
          route,
          undefined,
          init.accept ?? 'text/event-stream, application/problem+json',
        ),
        signal,
      });
      if (!res.ok) {
        const text = await res.text();
        throw errorFromResponse(res.status, res.statusText, res.headers, text);
      }
    } catch (e) {
      if (e instanceof TenantmlError) throw e;
      if (init.signal?.aborted) throw init.signal.reason;
      if (headersTimer.signal.aborted) throw timeoutError(route, `sent no headers within ${timeoutMs} ms`, e);
      throw networkError(this.baseUrl, e);
    } finally {
      clearTimeout(timer);
    }
    if (res.body === null) {
      throw new TenantmlError({
        status: res.status,
        code: 'invalid_response',
        title: 'The answer has no body',
        detail: `${route.method} ${route.path} answered ${res.status} without a body to stream`,
        requestId: res.headers.get('x-request-id') ?? undefined,
      });
    }
    return res as Response & { body: ReadableStream<Uint8Array> };
  }
}

export interface StreamInitFor<P extends string> extends CallOptions {
  params?: PathParams<P>;
  query?: Record<string, QueryValue>;
  /** Default `text/event-stream, application/problem+json` (refusals are problem documents). */
  accept?: string;
}

function timeoutError(route: Route, what: string, cause: unknown): TenantmlError {
  return new TenantmlError({
    status: 0,
    code: 'timeout',
    title: 'The request timed out',
    detail: `${route.method} ${route.path} ${what}`,
    cause,
  });
}
