// Training jobs over HTTP: submit (202 with the job), list, show, cancel, and a server-sent event stream
// of progress that ends when the job does.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type Job, TERMINAL_STATES } from '../../core/jobs.ts';
import type { ApiDeps } from '../context.ts';
import {
  JobIdParams,
  JobListQuerySchema,
  JobSchema,
  type JobView,
  NameParams,
  TrainRequestSchema,
} from '../schemas.ts';
import { errorResponses } from './common.ts';

export const jobView = (j: Job): JobView => ({
  id: j.id,
  kind: j.kind,
  state: j.state,
  priority: j.priority,
  model: j.spec.model,
  spec: j.spec,
  attempts: j.attempts,
  maxAttempts: j.maxAttempts,
  cancelRequested: j.cancelRequested,
  progress: j.progress,
  limits: j.limits,
  cpuSeconds: j.cpuSeconds,
  wallSeconds: j.wallSeconds,
  error: j.error,
  result: j.result,
  createdAt: j.createdAt,
  createdBy: j.createdBy,
  startedAt: j.startedAt,
  finishedAt: j.finishedAt,
});

/** How often the event stream looks at the job (the store is the one source of truth across replicas). */
const EVENT_POLL_MS = 300;
const EVENT_KEEPALIVE_MS = 15_000;

export function jobRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['jobs'];
    // Open event streams end when the server shuts down, so they never hold a graceful stop open;
    // clients reconnect (EventSource) or fall back to polling (the SDK's wait()).
    let shuttingDown = false;
    app.addHook('preClose', async () => {
      shuttingDown = true;
    });
    app.post(
      '/v1/models/:name/train',
      {
        config: { auth: 'tenantAdmin', audit: 'model.train' },
        schema: {
          tags: ['models'],
          summary: 'Queue a training job for a new version of the model',
          params: NameParams,
          body: TrainRequestSchema,
          response: { 202: JobSchema, 422: Type.Ref('Problem'), 429: Type.Ref('Problem'), ...errorResponses },
        },
      },
      async (req, reply) => {
        const job = await deps.training.submit(req.scope!, req.params.name, req.body);
        req.auditTarget = `${req.params.name}/${job.id}`;
        return reply.code(202).header('Location', `/v1/jobs/${job.id}`).send(jobView(job));
      },
    );

    app.get(
      '/v1/jobs',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          querystring: JobListQuerySchema,
          response: { 200: Type.Object({ jobs: Type.Array(JobSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
        const jobs = await deps.training.list(req.scope!, {
          state: req.query.state,
          model: req.query.model,
          limit,
        });
        return { jobs: jobs.map(jobView) };
      },
    );

    app.get(
      '/v1/jobs/:id',
      {
        config: { auth: 'tenantAdmin' },
        schema: { tags, params: JobIdParams, response: { 200: JobSchema, ...errorResponses } },
      },
      async (req) => jobView(await deps.training.get(req.scope!, req.params.id)),
    );

    app.post(
      '/v1/jobs/:id/cancel',
      {
        config: { auth: 'tenantAdmin', audit: 'job.cancel' },
        schema: { tags, params: JobIdParams, response: { 202: JobSchema, ...errorResponses } },
      },
      async (req, reply) =>
        reply.code(202).send(jobView(await deps.training.cancel(req.scope!, req.params.id))),
    );

    app.get(
      '/v1/jobs/:id/events',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary:
            'Server-sent events: `job` on every change (state, phase, iteration, metric, ETA), then `end`',
          params: JobIdParams,
          response: {
            200: {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const scope = req.scope!;
        let job = await deps.training.get(scope, req.params.id); // 404 before the stream opens
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          // One stream per connection: when it ends, the socket goes too (nothing idles behind it).
          connection: 'close',
          'x-request-id': req.id,
        });
        let closed = false;
        res.on('close', () => {
          closed = true;
        });
        let seq = 0;
        const send = (event: string, data: unknown): void => {
          res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        let last = '';
        let lastWrite = performance.now();
        while (!closed && !shuttingDown) {
          const view = jobView(job);
          const key = JSON.stringify([view.state, view.progress, view.attempts, view.cancelRequested]);
          if (key !== last) {
            send('job', view);
            last = key;
            lastWrite = performance.now();
          } else if (performance.now() - lastWrite > EVENT_KEEPALIVE_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = performance.now();
          }
          if (TERMINAL_STATES.has(job.state)) {
            send('end', { state: job.state, result: job.result, error: job.error });
            break;
          }
          await new Promise((r) => setTimeout(r, EVENT_POLL_MS));
          if (closed || shuttingDown) break;
          try {
            job = await deps.training.get(scope, req.params.id);
          } catch {
            send('end', { state: 'unknown', error: 'the job is no longer visible' });
            break;
          }
        }
        res.end();
      },
    );
  };
}
