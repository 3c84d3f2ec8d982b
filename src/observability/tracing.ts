// OpenTelemetry tracing (docs/observability.md): with an OTLP endpoint configured, a tracer provider of
// this platform's own (never registered globally, so two platforms in one process never mix spans) with
// a batch processor and the OTLP/HTTP exporter. Without one there is no provider at all: callers see a
// null tracer and skip every span. Spans carry ids, routes, states and timings — never data values.

import { createRequire } from 'node:module';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

// The SDK, resources and OTLP exporter are required only when tracing is on: loading them costs a
// process that does not trace ~20 MB of resident memory (measured on `npm start`). They are CommonJS
// packages (an ESM import resolved to the same builds), so a synchronous require keeps startTracing sync.
const require = createRequire(import.meta.url);

export interface TracingOptions {
  /** The OTLP/HTTP traces endpoint (…/v1/traces); null: no tracing. */
  endpoint: string | null;
  /** What this process does: `api`, `worker`, or `api+worker`. */
  role: string;
  version: string;
  /** An exporter to use instead of OTLP/HTTP (tests of this module only). */
  exporter?: SpanExporter;
  /** Longest wait for the last spans to leave on shutdown, ms (default 5000). */
  shutdownTimeoutMs?: number;
}

export interface Tracing {
  /** Null when tracing is off. */
  readonly tracer: Tracer | null;
  /** Sends the spans still buffered and stops the provider (the platform's close calls it last). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { tracer: null, shutdown: async () => {} };

export function startTracing(opts: TracingOptions): Tracing {
  if (!opts.endpoint && !opts.exporter) return OFF;
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BasicTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const exporter = opts.exporter ?? new OTLPTraceExporter({ url: opts.endpoint as string });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'tenantml',
      'service.version': opts.version,
      'tenantml.role': opts.role,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('tenantml', opts.version);
  let done: Promise<void> | null = null;
  return {
    tracer,
    shutdown() {
      done ??= withTimeout(provider.shutdown(), opts.shutdownTimeoutMs ?? 5000);
      return done;
    },
  };
}

/** Resolves when `p` settles or after `ms`, whichever comes first; never rejects (a collector that is down never fails a shutdown). */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The remote parent a W3C `traceparent` header names (https://www.w3.org/TR/trace-context/), or null
 * when the header is absent or malformed (the request then starts a new trace). Upper-case hex, version
 * ff, all-zero ids, and extra fields on version 00 are refused, as the specification says.
 */
export function parseTraceparent(header: string | string[] | undefined): SpanContext | null {
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId as string) || /^0+$/.test(spanId as string)) return null;
  return {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/** The context whose parent is `parent` (a span, or a remote span context), or the root context. */
export function parentContext(parent: Span | SpanContext | null | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return 'spanContext' in parent
    ? trace.setSpan(ROOT_CONTEXT, parent)
    : trace.setSpanContext(ROOT_CONTEXT, parent);
}
