// The Open Inference Protocol (KServe v2) over the same resolution, auth and checks as /v1 predict, so
// standard clients can call tenant models. Inputs are columnar: one tensor per feature, named by the
// feature, shape [N] (or [N, 1]); outputs are `label` (BYTES) + `probabilities` (FP32 [N, classes]) or
// `value` (FP32), plus `prediction_id` (BYTES) for feedback. Health routes need no key, like /healthz.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, type FieldError } from '../../core/errors.ts';
import type { InferenceService } from '../../services/inference/service.ts';
import {
  V2HealthSchema,
  type V2InferRequest,
  V2InferRequestSchema,
  V2InferResponseSchema,
  V2ModelMetadataSchema,
} from '../inference-schemas.ts';
import { NameParams } from '../schemas.ts';
import { errorResponses } from './common.ts';
import { clientGone, refuseSpent } from './predict.ts';

const DATATYPE: Record<string, string> = { numeric: 'FP32', integer: 'INT64', boolean: 'BOOL' };

/** Columnar v2 inputs to row instances; a shape that does not fit its data names the input. */
function toInstances(body: V2InferRequest): Record<string, unknown>[] {
  const errors: FieldError[] = [];
  let n = -1;
  const cols: { name: string; data: unknown[] }[] = [];
  body.inputs.forEach((t, k) => {
    const data = (t.data as unknown[]).flat(2);
    const rows = t.shape[0] ?? data.length;
    const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
    if (width !== 1 || data.length !== rows) {
      errors.push({
        field: `inputs[${k}].shape`,
        message: `input ${t.name} must have shape [N] or [N, 1] matching its data`,
      });
      return;
    }
    if (n === -1) n = rows;
    else if (rows !== n) {
      errors.push({
        field: `inputs[${k}].shape`,
        message: `input ${t.name} has ${rows} rows, the first input ${n}`,
      });
      return;
    }
    cols.push({ name: t.name, data });
  });
  if (errors.length) throw new AppError('validation_failed', 'the inputs do not fit together', { errors });
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    // No prototype: an input named like an Object member ("__proto__", "toString") stays a plain key.
    const inst: Record<string, unknown> = Object.create(null);
    for (const c of cols) inst[c.name] = c.data[i];
    out.push(inst);
  }
  return out;
}

export function inferV2Routes(
  inference: InferenceService,
  isReady: () => boolean,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['inference'];
    app.get('/v2/health/live', { schema: { tags, response: { 200: V2HealthSchema } } }, async () => ({
      live: true,
    }));
    app.get(
      '/v2/health/ready',
      { schema: { tags, response: { 200: V2HealthSchema, 503: Type.Ref('Problem') } } },
      async () => {
        if (!isReady()) throw new AppError('unavailable', 'shutting down');
        return { ready: true };
      },
    );

    app.get(
      '/v2/models/:name',
      {
        config: { auth: 'tenant' },
        schema: {
          tags,
          summary: 'Model metadata (Open Inference Protocol)',
          params: NameParams,
          response: { 200: V2ModelMetadataSchema, ...errorResponses },
        },
      },
      async (req) => {
        const m = await inference.metadata(req.scope!, req.params.name);
        const outputs =
          m.task === 'regression'
            ? [{ name: 'value', datatype: 'FP32', shape: [-1] }]
            : [
                { name: 'label', datatype: 'BYTES', shape: [-1] },
                { name: 'probabilities', datatype: 'FP32', shape: [-1, m.classes?.length ?? -1] },
              ];
        return {
          name: m.name,
          versions: [String(m.version)],
          platform: 'onnxruntime_onnx',
          inputs: m.inputs.map((f) => ({ name: f.name, datatype: DATATYPE[f.type] ?? 'BYTES', shape: [-1] })),
          outputs: [...outputs, { name: 'prediction_id', datatype: 'BYTES', shape: [-1] }],
        };
      },
    );

    app.post(
      '/v2/models/:name/infer',
      {
        config: { auth: 'tenant' },
        preParsing: refuseSpent(inference),
        schema: {
          tags,
          summary: 'Inference (Open Inference Protocol)',
          params: NameParams,
          body: V2InferRequestSchema,
          response: {
            200: V2InferResponseSchema,
            429: Type.Ref('Problem'),
            503: Type.Ref('Problem'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const r = await inference.predict(req.scope!, req.params.name, toInstances(req.body), {
          cancel: clientGone(reply),
          phases: req.phases, // predict spans (tracing on only)
        });
        reply.headers(r.headers);
        const n = r.predictions.length;
        const outputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[] = [];
        const first = r.predictions[0];
        if (first?.value !== undefined) {
          outputs.push({
            name: 'value',
            shape: [n],
            datatype: 'FP32',
            data: r.predictions.map((p) => p.value),
          });
        } else {
          outputs.push({
            name: 'label',
            shape: [n],
            datatype: 'BYTES',
            data: r.predictions.map((p) => p.label),
          });
          if (first?.probabilities) {
            const k = Object.keys(first.probabilities).length;
            outputs.push({
              name: 'probabilities',
              shape: [n, k],
              datatype: 'FP32',
              data: r.predictions.flatMap((p) => Object.values(p.probabilities ?? {})),
            });
          }
        }
        outputs.push({
          name: 'prediction_id',
          shape: [n],
          datatype: 'BYTES',
          data: r.predictions.map((p) => p.id),
        });
        const wanted = req.body.outputs?.map((o) => o.name);
        return {
          model_name: r.model.name,
          model_version: String(r.model.version),
          id: req.body.id ?? r.id,
          outputs: wanted ? outputs.filter((o) => wanted.includes(o.name)) : outputs,
        };
      },
    );
  };
}
