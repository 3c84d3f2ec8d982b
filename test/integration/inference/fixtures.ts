// Real model versions for the inference tests: a tiny model trained with the real trainer (real ONNX
// bytes), its artifacts written encrypted with TenantArtifacts, its version registered in the store —
// what a finished training job leaves, without running one.
import { createHash } from 'node:crypto';
import { SYSTEM, sharedScope, type TenantScope } from '../../../src/core/scope.ts';
import { type TrainedModel, trainModel } from '../../../src/ml/train.ts';
import type { Platform } from '../../../src/platform.ts';
import type { ModelVersion, Store } from '../../../src/store/ports.ts';
import { col } from '../../helpers/columns.ts';

/** Features x (numeric), n (integer), color (categorical); target `label` ("yes" when x > 0). */
export function trainTiny(
  opts: { flip?: boolean; regression?: boolean; rounds?: number; seed?: number; numericOnly?: boolean } = {},
): TrainedModel {
  const rows = [];
  const colors = ['red', 'green', 'blue'];
  for (let i = 0; i < 120; i++) {
    const x = ((i * 37) % 101) / 50 - 1;
    const yes = x > 0 !== Boolean(opts.flip);
    rows.push({
      x,
      n: i % 7,
      ...(opts.numericOnly ? {} : { color: colors[i % 3] }),
      label: opts.regression ? 3 * x + 1 : yes ? 'yes' : 'no',
    });
  }
  return trainModel({
    rows,
    schema: {
      columns: [
        col('x', 'numeric'),
        col('n', 'integer'),
        ...(opts.numericOnly ? [] : [col('color', 'categorical')]),
        col('label', opts.regression ? 'numeric' : 'categorical'),
      ],
    },
    target: 'label',
    task: opts.regression ? 'regression' : 'binary',
    algorithm: 'gbdt',
    params: { nRounds: opts.rounds ?? 10, earlyStoppingRounds: 0 },
    seed: opts.seed ?? 1,
  });
}

/** Writes a trained model's artifacts into `scope`'s namespace and registers it as a new version. */
export async function registerTrained(
  platform: Platform,
  scope: TenantScope,
  model: string,
  trained: TrainedModel,
  over: { mode?: 'tenant' | 'tuned' | 'shared'; tag?: string; via?: Pick<Store, 'models'> } = {},
): Promise<ModelVersion> {
  const onnx = Buffer.from(trained.onnx!);
  const prefix = `models/${model}/${over.tag ?? createHash('sha256').update(onnx).update(String(Math.random())).digest('hex').slice(0, 12)}`;
  const art = platform.services.artifacts;
  await art.put(scope, `${prefix}/model.onnx`, onnx);
  await art.put(scope, `${prefix}/featurizer.json`, Buffer.from(JSON.stringify(trained.featurizer)));
  await art.put(scope, `${prefix}/model.json`, Buffer.from(JSON.stringify(trained.modelJson)));
  // `via`: another store on the same database, as another process (a worker) would register.
  return (over.via ?? platform.store).models.register(scope, {
    model,
    mode: over.mode ?? 'tenant',
    task: trained.modelJson.task,
    algorithm: trained.modelJson.algorithm,
    params: trained.modelJson.params,
    metrics: {},
    datasets: [],
    artifact: prefix,
    checksum: createHash('sha256').update(onnx).digest('hex'),
    jobId: null,
    base: null,
    createdAt: '2031-01-01T00:00:00.000Z',
    createdBy: 'test',
  });
}

/**
 * An operator-imported shared model: ONNX bytes and a model.json naming its tensors, no featurizer.json.
 * The ONNX comes from a numeric-only trained model, whose input columns are the raw features in order.
 */
export async function registerImported(platform: Platform, model: string): Promise<ModelVersion> {
  const t = trainTiny({ numericOnly: true });
  if (t.featurizer.nFeatures !== 2)
    throw new Error(`expected 2 raw input columns, got ${t.featurizer.nFeatures}`);
  const onnx = Buffer.from(t.onnx!);
  const scope = sharedScope(SYSTEM);
  const prefix = `models/${model}/imported`;
  await platform.services.artifacts.put(scope, `${prefix}/model.onnx`, onnx);
  const modelJson = {
    format: 'tenantml.model/1',
    task: 'binary',
    algorithm: 'onnx',
    classes: t.modelJson.classes,
    inputSchema: [
      { name: 'x', type: 'numeric' },
      { name: 'n', type: 'numeric' },
    ],
    imported: { input: 'input', outputs: { label: 'label', probabilities: 'probabilities' } },
  };
  await platform.services.artifacts.put(
    scope,
    `${prefix}/model.json`,
    Buffer.from(JSON.stringify(modelJson)),
  );
  const v = await platform.store.models.register(scope, {
    model,
    mode: 'shared',
    task: 'binary',
    algorithm: 'onnx',
    params: {},
    metrics: {},
    datasets: [],
    artifact: prefix,
    checksum: createHash('sha256').update(onnx).digest('hex'),
    jobId: null,
    base: null,
    createdAt: '2031-01-01T00:00:00.000Z',
    createdBy: 'operator',
  });
  await platform.store.models.setAudience(scope, model, 'all');
  return v;
}
