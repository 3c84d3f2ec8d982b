// Builds the HTTP server from the platform's services. No I/O of its own beyond HTTP: everything it
// touches arrives in `deps`, so tests build it on any store.
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';
import { registerHttpObservability } from '../observability/http.ts';
import type { Observability } from '../observability/observability.ts';
import { registerAuditHook } from './audit-hook.ts';
import { registerAuth } from './auth.ts';
import type { ApiDeps } from './context.ts';
import { RequestLogController } from './logging.ts';
import { sendProblem } from './problem.ts';
import { auditRoutes } from './routes/audit.ts';
import { budgetRoutes } from './routes/budget.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { healthRoutes } from './routes/health.ts';
import { inferV2Routes } from './routes/infer-v2.ts';
import { jobRoutes } from './routes/jobs.ts';
import { type MetricsSource, metricsRoutes } from './routes/metrics.ts';
import { modelRoutes } from './routes/models.ts';
import { monitoringRoutes } from './routes/monitoring.ts';
import { predictRoutes } from './routes/predict.ts';
import { provenanceRoutes } from './routes/provenance.ts';
import { quotaRoutes } from './routes/quotas.ts';
import { sharedRoutes } from './routes/shared.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { usageRoutes } from './routes/usage.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { FieldErrorSchema, ProblemSchema } from './schemas.ts';

export const API_VERSION = '0.1.0';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface ServerState {
  shuttingDown: boolean;
}

export interface ServerOptions {
  /** Where log lines go (default: standard output). Tests capture them here. */
  logStream?: { write(line: string): void };
  /** HTTP metrics and spans, and the registry GET /metrics serves (default: the inference metrics alone). */
  observability?: Pick<Observability, 'registry' | 'http' | 'tracing'>;
  /** What GET /metrics serves instead of the registry (a serving pool's process: the whole pool's). */
  metrics?: MetricsSource;
}

export async function buildServer(
  deps: ApiDeps,
  opts: ServerOptions = {},
): Promise<FastifyInstance & { state: ServerState }> {
  const app = Fastify({
    logger: {
      level: deps.config.logLevel,
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      // Logs carry ids, methods, routes and status codes — never bodies, headers or query values.
      serializers: {
        req: (req) => ({ method: req.method, route: req.routeOptions?.url, id: req.id }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    },
    bodyLimit: deps.config.maxJsonBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    ajv: {
      customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true },
    },
    return503OnClosing: true,
    // One line per request at debug, none at info (logging.ts).
    logController: new RequestLogController(),
    // Long names reach our own check, which names the field, instead of Fastify's bare 414.
    routerOptions: { maxParamLength: 1000 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const state: ServerState = { shuttingDown: false };
  // First of all hooks: requests refused by authentication are counted and traced too.
  if (opts.observability)
    registerHttpObservability(app, {
      metrics: opts.observability.http,
      tracer: opts.observability.tracing.tracer,
    });
  app.addSchema(FieldErrorSchema);
  app.addSchema(ProblemSchema);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err));
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, req, new AppError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tenantml',
        version: API_VERSION,
        description:
          'Multitenant machine learning: datasets, models, training jobs and predictions per tenant. ' +
          'Errors are RFC 9457 problem documents; see docs/errors.md for every code.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'operator or tenant API key' },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerAuth(app, deps);
  registerAuditHook(app, deps);

  await app.register(healthRoutes(deps, state));
  await app.register(tenantRoutes(deps));
  await app.register(datasetRoutes(deps));
  await app.register(jobRoutes(deps));
  await app.register(modelRoutes(deps));
  await app.register(auditRoutes(deps));
  await app.register(sharedRoutes(deps));
  await app.register(provenanceRoutes(deps));
  await app.register(predictRoutes(deps.inference));
  await app.register(inferV2Routes(deps.inference, () => !state.shuttingDown));
  await app.register(metricsRoutes(opts.metrics ?? opts.observability?.registry ?? deps.metrics));
  await app.register(monitoringRoutes({ ...deps, granularity: deps.config.monitorGranularity }));
  await app.register(webhookRoutes(deps));
  if (deps.budgets) await app.register(budgetRoutes({ budgets: deps.budgets }));
  if (deps.quotaService) await app.register(quotaRoutes({ ...deps, quotaService: deps.quotaService }));
  if (deps.usage) await app.register(usageRoutes({ usage: deps.usage }));

  return Object.assign(app, { state });
}
