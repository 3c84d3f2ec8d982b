// Everything a platform process observes itself with, built once by the composition root: the metrics
// registry (served on GET /metrics), the HTTP and job instruments, and the tracer (null when tracing is off).
import type { Config } from '../core/config.ts';
import { HttpMetrics } from './http.ts';
import { JobMetrics } from './jobs.ts';
import { PlatformRegistry } from './registry.ts';
import { startTracing, type Tracing } from './tracing.ts';

/** The version reported as service.version (the API's version). */
export const SERVICE_VERSION = '0.1.0';

export interface Observability {
  readonly registry: PlatformRegistry;
  readonly http: HttpMetrics;
  readonly jobs: JobMetrics;
  readonly tracing: Tracing;
  /** Ends open job spans and sends the buffered spans (call last, after the workers stopped). */
  close(): Promise<void>;
}

export function createObservability(
  config: Pick<Config, 'metricsTenantLabel' | 'otlpTracesEndpoint'>,
  role: 'api' | 'worker' | 'api+worker',
): Observability {
  const registry = new PlatformRegistry({ tenantLabel: config.metricsTenantLabel });
  const tracing = startTracing({ endpoint: config.otlpTracesEndpoint, role, version: SERVICE_VERSION });
  const jobs = new JobMetrics(registry, tracing.tracer);
  return {
    registry,
    http: new HttpMetrics(registry),
    jobs,
    tracing,
    async close() {
      jobs.close();
      await tracing.shutdown();
    },
  };
}
