// HTTP observability, registered first on the server (before authentication, so a 401 is seen too):
// requests and their duration by method, route *template* and status — never the raw URL, so ids in paths
// add no series, and every unmatched path folds into one `unmatched` route — and, with tracing on, one
// server span per request, a child of the caller's W3C `traceparent` when it sends one.
import { type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import type { PredictPhases } from '../services/inference/service.ts';
import type { PlatformRegistry } from './registry.ts';
import { parentContext, parseTraceparent } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's server span (tracing on only). */
    span: Span | null;
    /** Records the predict phases as child spans of `span` (tracing on only; the predict routes pass it on). */
    phases: PredictPhases | undefined;
    /** performance.now() when the request arrived; -1 once it has been counted. */
    arrivedAt: number;
  }
}

/** The route label of a request with no route (404, or a method the path does not have). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(platform: PlatformRegistry) {
    const registers = [platform.own];
    this.requests = new Counter({
      name: 'tenantml_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'tenantml_http_request_duration_seconds',
      help: 'Time from a request’s arrival to its answer being sent, by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    platform.changed();
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}

/** The method label: one of the HTTP methods the API knows, or OTHER (a client cannot add series). */
function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

/** The route template the request matched (`/v1/models/:name/predict`), or `unmatched`. */
export function routeLabel(req: FastifyRequest): string {
  return req.is404 ? UNMATCHED_ROUTE : (req.routeOptions.url ?? UNMATCHED_ROUTE);
}

/** The tenant a request acted on (its scope), or the tenant of its key; undefined for the operator. */
function tenantOf(req: FastifyRequest): string | undefined {
  if (req.scope) return req.scope.tenantId;
  const p = req.principal;
  return p && p.kind !== 'operator' ? p.tenantId : undefined;
}

export function registerHttpObservability(
  app: FastifyInstance,
  deps: { metrics: HttpMetrics; tracer: Tracer | null },
): void {
  const { metrics, tracer } = deps;
  app.decorateRequest('span', null);
  app.decorateRequest('phases', undefined);
  app.decorateRequest('arrivedAt', 0);

  app.addHook('onRequest', async (req) => {
    req.arrivedAt = performance.now();
    if (!tracer) return;
    const method = methodLabel(req.method);
    const route = routeLabel(req);
    const parent = parseTraceparent(req.headers.traceparent);
    const span = tracer.startSpan(
      route === UNMATCHED_ROUTE ? method : `${method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'http.route': route,
          'tenantml.request_id': req.id,
        },
      },
      parentContext(parent),
    );
    req.span = span;
    const ctx = parentContext(span);
    req.phases = (phase, startMs, endMs, attributes) => {
      tracer.startSpan(`predict.${phase}`, { startTime: startMs, attributes }, ctx).end(endMs);
    };
  });

  // Once per request: an aborted request whose handler answers later is not counted again.
  const done = async (req: FastifyRequest, status: number): Promise<void> => {
    if (req.arrivedAt < 0) return;
    const seconds = (performance.now() - req.arrivedAt) / 1000;
    req.arrivedAt = -1;
    metrics.observe(methodLabel(req.method), routeLabel(req), status, seconds);
    const span = req.span;
    if (!span) return;
    req.span = null;
    span.setAttribute('http.response.status_code', status);
    const tenant = tenantOf(req);
    if (tenant !== undefined) span.setAttribute('tenantml.tenant_id', tenant);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onResponse', async (req, reply) => done(req, reply.statusCode));
  // A client that goes away before the answer: counted (and its span ended) as 499, nginx's convention.
  app.addHook('onRequestAbort', async (req) => done(req, 499));
}
