// The tenant's models: list, one model with its versions, metrics, lineage and live-version history, and
// promotion and rollback of the live version (the one that answers predictions).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../../core/errors.ts';
import { nameProblem } from '../../core/ids.ts';
import type { TenantScope } from '../../core/scope.ts';
import type { Advice, ModelVersion, Store } from '../../store/ports.ts';
import type { ApiDeps } from '../context.ts';
import {
  AdviceSchema,
  type AdviceView,
  AdviseRequestSchema,
  ModelDetailSchema,
  type ModelDetailView,
  ModelSummarySchema,
  ModelVersionParams,
  type ModelVersionView,
  NameParams,
} from '../schemas.ts';
import { errorResponses } from './common.ts';

export const versionView = (v: ModelVersion, live: number | null): ModelVersionView => ({
  model: v.model,
  version: v.version,
  mode: v.mode,
  task: v.task,
  algorithm: v.algorithm,
  params: v.params,
  metrics: v.metrics,
  datasets: v.datasets,
  checksum: v.checksum,
  jobId: v.jobId,
  base: v.base,
  status: v.status,
  taint: v.taint,
  live: v.version === live,
  createdAt: v.createdAt,
  createdBy: v.createdBy,
});

/**
 * A model as its detail route answers it: summary, versions and live history. A missing model (or one
 * of another namespace) is 404. The shared-model routes answer the same shape for the shared namespace.
 */
export async function modelDetail(
  store: Pick<Store, 'models'>,
  scope: TenantScope,
  name: string,
): Promise<ModelDetailView> {
  const m = nameProblem(name) ? null : await store.models.get(scope, name);
  if (!m) throw notFound('model');
  const [versions, history] = await Promise.all([
    store.models.versions(scope, name),
    store.models.liveHistory(scope, name),
  ]);
  return {
    ...m,
    versionList: versions.map((v) => versionView(v, m.liveVersion)),
    liveHistory: history.map(({ fromVersion, toVersion, actor, at, reason }) => ({
      fromVersion,
      toVersion,
      actor,
      at,
      reason,
    })),
  };
}

const adviceView = (a: Advice): AdviceView => ({
  id: a.id,
  model: a.model,
  dataset: a.dataset,
  datasetVersion: a.datasetVersion,
  target: a.target,
  shared: a.shared,
  jobs: a.jobs,
  autoPromote: a.autoPromote,
  state: a.state,
  result: a.result,
  error: a.error,
  createdAt: a.createdAt,
  createdBy: a.createdBy,
  finishedAt: a.finishedAt,
});

export function modelRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['models'];
    app.get(
      '/v1/models',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          response: { 200: Type.Object({ models: Type.Array(ModelSummarySchema) }), ...errorResponses },
        },
      },
      async (req) => ({ models: await deps.store.models.list(req.scope!) }),
    );

    const detail = (scope: TenantScope, name: string) => modelDetail(deps.store, scope, name);

    app.get(
      '/v1/models/:name',
      {
        config: { auth: 'tenantAdmin' },
        schema: { tags, params: NameParams, response: { 200: ModelDetailSchema, ...errorResponses } },
      },
      async (req) => detail(req.scope!, req.params.name),
    );

    app.post(
      '/v1/models/:name/versions/:v/promote',
      {
        config: { auth: 'tenantAdmin', audit: 'model.promote' },
        schema: {
          tags,
          summary: 'Make a version the live one (the one that answers predictions)',
          params: ModelVersionParams,
          response: { 200: ModelDetailSchema, ...errorResponses },
        },
      },
      async (req) => {
        const { name } = req.params;
        const version = Number(req.params.v);
        req.auditTarget = `${name}@${version}`;
        if (nameProblem(name)) throw notFound('model');
        const scope = req.scope!;
        const v = await deps.store.models.version(scope, name, version);
        if (v?.status === 'tainted') {
          throw new AppError(
            'conflict',
            `${name}@${version} is tainted (${v.taint?.reason}); it cannot be made live`,
          );
        }
        await deps.store.models.promote(
          scope,
          name,
          version,
          scope.actor.keyId,
          deps.clock.now().toISOString(),
        );
        return detail(scope, name);
      },
    );

    app.post(
      '/v1/models/:name/advise',
      {
        config: { auth: 'tenantAdmin', audit: 'model.advise' },
        schema: {
          tags,
          summary:
            'Train tenant-specific and tuned candidates and compare them with the shared model on the same held-out rows',
          params: NameParams,
          body: AdviseRequestSchema,
          response: {
            202: AdviceSchema,
            422: Type.Ref('Problem'),
            429: Type.Ref('Problem'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const advice = await deps.advisor.advise(req.scope!, req.params.name, req.body);
        req.auditTarget = `${req.params.name}/${advice.id}`;
        return reply.code(202).send(adviceView(advice));
      },
    );

    app.get(
      '/v1/models/:name/advice',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary: 'The advice given for this model name, newest first (results once its jobs have ended)',
          params: NameParams,
          response: { 200: Type.Object({ advice: Type.Array(AdviceSchema) }), ...errorResponses },
        },
      },
      async (req) => ({ advice: (await deps.advisor.list(req.scope!, req.params.name)).map(adviceView) }),
    );

    app.post(
      '/v1/models/:name/rollback',
      {
        config: { auth: 'tenantAdmin', audit: 'model.rollback' },
        schema: {
          tags,
          summary: 'Make live again the version that was live before the current one',
          params: NameParams,
          response: { 200: ModelDetailSchema, 409: Type.Ref('Problem'), ...errorResponses },
        },
      },
      async (req) => {
        const { name } = req.params;
        if (nameProblem(name)) throw notFound('model');
        const scope = req.scope!;
        await deps.store.models.rollback(scope, name, scope.actor.keyId, deps.clock.now().toISOString());
        return detail(scope, name);
      },
    );
  };
}
