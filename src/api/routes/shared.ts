// Shared models (operator key only): train on the pooled, de-identified data of consenting tenants,
// import a pretrained ONNX model, publish to all tenants or a list, list and inspect versions with
// their provenance, follow the shared namespace's jobs, and download a version's ONNX file.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../../core/errors.ts';
import { OPERATOR, SYSTEM, sharedScope } from '../../core/scope.ts';
import type { ApiDeps } from '../context.ts';
import {
  AudienceRequestSchema,
  ImportRequestSchema,
  JobIdParams,
  JobSchema,
  ModelDetailSchema,
  ModelSummarySchema,
  ModelVersionParams,
  ModelVersionSchema,
  NameParams,
  ProvenanceRecordSchema,
  SharedTrainRequestSchema,
} from '../schemas.ts';
import { errorResponses } from './common.ts';
import { jobView } from './jobs.ts';
import { modelDetail, versionView } from './models.ts';

/** Imports carry a whole ONNX model as base64: allowed up to the upload limit rather than the JSON one. */
export function sharedRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['shared models'];
    const operator = sharedScope(OPERATOR);
    const problem = Type.Ref('Problem');

    app.post(
      '/v1/shared/models/:name/train',
      {
        config: { auth: 'operator', audit: 'shared.train' },
        schema: {
          tags,
          summary: 'Train a shared model on the pooled, de-identified data of consenting tenants',
          params: NameParams,
          body: SharedTrainRequestSchema,
          response: { 202: JobSchema, 422: problem, 429: problem, ...errorResponses },
        },
      },
      async (req, reply) => {
        const job = await deps.training.submitShared(operator, req.params.name, req.body);
        req.auditTarget = `${req.params.name}/${job.id}`;
        return reply.code(202).header('Location', `/v1/shared/jobs/${job.id}`).send(jobView(job));
      },
    );

    app.post(
      '/v1/shared/models/:name/import',
      {
        bodyLimit: deps.config.maxUploadBytes,
        config: { auth: 'operator', audit: 'shared.import' },
        schema: {
          tags,
          summary: 'Import a pretrained ONNX model as a new shared version',
          params: NameParams,
          body: ImportRequestSchema,
          response: { 201: ModelVersionSchema, 413: problem, 422: problem, ...errorResponses },
        },
      },
      async (req, reply) => {
        const v = await deps.sharedModels.import(operator, req.params.name, req.body);
        req.auditTarget = `${v.model}@${v.version}`;
        const summary = await deps.store.models.get(operator, v.model);
        return reply.code(201).send(versionView(v, summary?.liveVersion ?? null));
      },
    );

    app.get(
      '/v1/shared/models',
      {
        config: { auth: 'operator' },
        schema: {
          tags,
          response: { 200: Type.Object({ models: Type.Array(ModelSummarySchema) }), ...errorResponses },
        },
      },
      async () => ({ models: await deps.sharedModels.list(operator) }),
    );

    app.get(
      '/v1/shared/models/:name',
      {
        config: { auth: 'operator' },
        schema: { tags, params: NameParams, response: { 200: ModelDetailSchema, ...errorResponses } },
      },
      async (req) => modelDetail(deps.store, operator, req.params.name),
    );

    app.put(
      '/v1/shared/models/:name/audience',
      {
        config: { auth: 'operator', audit: 'shared.publish' },
        schema: {
          tags,
          summary: 'Publish the shared model to every tenant or to a list of them',
          params: NameParams,
          body: AudienceRequestSchema,
          response: { 200: ModelSummarySchema, ...errorResponses },
        },
      },
      async (req) => {
        req.auditTarget = req.params.name;
        return deps.sharedModels.publish(operator, req.params.name, req.body.audience);
      },
    );

    app.get(
      '/v1/shared/models/:name/versions/:v/provenance',
      {
        config: { auth: 'operator' },
        schema: {
          tags,
          summary: 'Which tenants’ dataset versions trained this version, and how many rows each gave',
          params: ModelVersionParams,
          response: {
            200: Type.Object({ provenance: Type.Array(ProvenanceRecordSchema) }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const version = Number(req.params.v);
        const v = await deps.store.models.version(operator, req.params.name, version);
        if (!v) throw notFound('shared model version');
        return { provenance: await deps.store.models.provenance(operator, req.params.name, version) };
      },
    );

    app.get(
      '/v1/shared/models/:name/versions/:v/model.onnx',
      {
        config: { auth: 'operator', audit: 'shared.download' },
        schema: {
          tags,
          summary: 'Download the ONNX file of a shared version (operator only)',
          params: ModelVersionParams,
          response: { ...errorResponses },
        },
      },
      async (req, reply) => {
        req.auditTarget = `${req.params.name}@${req.params.v}`;
        const bytes = await deps.sharedModels.artifact(operator, req.params.name, Number(req.params.v));
        return reply.type('application/octet-stream').send(bytes);
      },
    );

    app.get(
      '/v1/shared/jobs',
      {
        config: { auth: 'operator' },
        schema: { tags, response: { 200: Type.Object({ jobs: Type.Array(JobSchema) }), ...errorResponses } },
      },
      async () => ({ jobs: (await deps.training.list(sharedScope(SYSTEM))).map(jobView) }),
    );

    app.get(
      '/v1/shared/jobs/:id',
      {
        config: { auth: 'operator' },
        schema: { tags, params: JobIdParams, response: { 200: JobSchema, ...errorResponses } },
      },
      async (req) => jobView(await deps.training.get(sharedScope(SYSTEM), req.params.id)),
    );
  };
}
