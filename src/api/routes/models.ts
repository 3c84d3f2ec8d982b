// The tenant's models: list, and one model with its versions, metrics and lineage. Promotion and
// rollback arrive with the registry (issue 5).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../core/errors.ts';
import { nameProblem } from '../../core/ids.ts';
import type { ModelVersion } from '../../store/ports.ts';
import type { ApiDeps } from '../context.ts';
import { ModelDetailSchema, ModelSummarySchema, type ModelVersionView, NameParams } from '../schemas.ts';
import { errorResponses } from './common.ts';

const versionView = (v: ModelVersion, live: number | null): ModelVersionView => ({
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
  live: v.version === live,
  createdAt: v.createdAt,
  createdBy: v.createdBy,
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

    app.get(
      '/v1/models/:name',
      {
        config: { auth: 'tenantAdmin' },
        schema: { tags, params: NameParams, response: { 200: ModelDetailSchema, ...errorResponses } },
      },
      async (req) => {
        const name = req.params.name;
        const m = nameProblem(name) ? null : await deps.store.models.get(req.scope!, name);
        if (!m) throw notFound('model');
        const versions = await deps.store.models.versions(req.scope!, name);
        return { ...m, versionList: versions.map((v) => versionView(v, m.liveVersion)) };
      },
    );
  };
}
