// Dataset routes. Uploads are streamed: the body goes from the socket through the parser, the schema
// inferrer, the encoder and the encryption straight to the artifact store, never whole in memory.

import type { Readable } from 'node:stream';
import { pipeline, Transform } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import type { DatasetVersion } from '../../core/types.ts';
import type { ApiDeps } from '../context.ts';
import {
  DatasetDetailSchema,
  DatasetSummarySchema,
  DatasetVersionSchema,
  type DatasetVersionView,
  NameParams,
} from '../schemas.ts';
import { errorResponses } from './common.ts';

export type UploadFormat = 'csv' | 'json' | 'ndjson';

const MEDIA_TYPES: Record<string, UploadFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};

/** The upload format from a Content-Type header, or a 415 naming what is accepted. */
export function formatOf(contentType: string | undefined): UploadFormat {
  const [type, ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const format = MEDIA_TYPES[type ?? ''];
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (!format || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new AppError(
      'unsupported_media_type',
      `Content-Type ${JSON.stringify(contentType ?? '')} is not accepted; send text/csv, application/json or application/x-ndjson in UTF-8`,
      {
        errors: [
          { field: 'Content-Type', message: 'expected text/csv, application/json or application/x-ndjson' },
        ],
      },
    );
  }
  return format;
}

/** Passes the body through, failing once more than `limit` bytes have arrived. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > limit) return cb(new AppError('body_too_large', `the upload is larger than ${limit} bytes`));
      cb(null, chunk);
    },
  });
}

export const versionView = (v: DatasetVersion): DatasetVersionView => ({
  name: v.name,
  version: v.version,
  rows: v.rows,
  schema: v.schema,
  sha256: v.sha256,
  format: v.format,
  storedBytes: v.storedBytes,
  createdAt: v.createdAt,
  createdBy: v.createdBy,
});

export function datasetRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['datasets'];
    const limit = deps.config.maxUploadBytes;
    // In this plugin only: every body arrives as a raw stream; the format is decided in the handler.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    app.post(
      '/v1/datasets/:name',
      {
        config: { auth: 'tenantAdmin', audit: 'dataset.upload' },
        bodyLimit: limit,
        schema: {
          tags,
          summary: 'Upload a new immutable version of a dataset (CSV, JSON array or JSON Lines)',
          params: NameParams,
          response: {
            201: DatasetVersionSchema,
            413: Type.Ref('Problem'),
            415: Type.Ref('Problem'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const format = formatOf(req.headers['content-type']);
        const declared = Number(req.headers['content-length'] ?? Number.NaN);
        if (declared > limit)
          throw new AppError('body_too_large', `the upload is larger than ${limit} bytes`);
        const raw = req.body as Readable | undefined;
        if (!raw || typeof (raw as Readable).pipe !== 'function' || declared === 0) {
          throw new AppError('empty_body', 'the upload is empty');
        }
        const limited = pipeline(raw, byteLimit(limit), () => {});
        const v = await deps.datasets.upload(req.scope!, req.params.name, format, limited);
        return reply.code(201).send(versionView(v));
      },
    );

    app.get(
      '/v1/datasets',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          response: { 200: Type.Object({ datasets: Type.Array(DatasetSummarySchema) }), ...errorResponses },
        },
      },
      async (req) => ({
        datasets: (await deps.datasets.list(req.scope!)).map((d) => ({
          name: d.name,
          latestVersion: d.latestVersion,
          versions: d.versions,
          createdAt: d.createdAt,
        })),
      }),
    );

    app.get(
      '/v1/datasets/:name',
      {
        config: { auth: 'tenantAdmin' },
        schema: { tags, params: NameParams, response: { 200: DatasetDetailSchema, ...errorResponses } },
      },
      async (req) => {
        const d = await deps.datasets.detail(req.scope!, req.params.name);
        return { ...d, versions: d.versions.map(versionView) };
      },
    );

    app.delete(
      '/v1/datasets/:name',
      {
        config: { auth: 'tenantAdmin', audit: 'dataset.delete' },
        schema: { tags, params: NameParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (req, reply) => {
        await deps.datasets.delete(req.scope!, req.params.name);
        return reply.code(204).send(null);
      },
    );
  };
}
