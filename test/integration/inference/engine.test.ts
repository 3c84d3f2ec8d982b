// The inference engine setting end to end, on both stores: a platform with TENANTML_INFERENCE_ENGINE=auto
// (the default) and one with onnxruntime answer the same predict requests over HTTP with the same
// predictions — GBDT and linear, binary, multiclass and regression, trained with the real trainer, plus
// an imported shared model — while /metrics tells which engine loaded each version; loading many models
// adds no OS thread on either engine; a bad setting is refused naming the variable.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../src/core/config.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import type { ColumnSchema, ColumnType } from '../../../src/core/types.ts';
import { type TrainedModel, trainModel } from '../../../src/ml/train.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerImported, registerTrained } from './fixtures.ts';

const col = (name: string, type: ColumnType): ColumnSchema => ({
  name,
  type,
  nullable: true,
  missing: 0,
  distinct: 10,
  distinctApprox: false,
  identifying: false,
  identifyingReasons: [],
});

function train(task: 'binary' | 'multiclass' | 'regression', algorithm: 'gbdt' | 'linear'): TrainedModel {
  const rows = [];
  const colors = ['red', 'green', 'blue'];
  for (let i = 0; i < 150; i++) {
    const x = ((i * 37) % 101) / 50 - 1;
    const color = colors[i % 3];
    const z = x + (color === 'red' ? 0.5 : 0) + (i % 7) / 10;
    rows.push({
      x: i % 11 === 0 ? null : x,
      n: i % 7,
      color: i % 13 === 0 ? null : color,
      label:
        task === 'regression' ? 2 * z : task === 'binary' ? (z > 0.4 ? 'yes' : 'no') : ['a', 'b', 'c'][i % 3],
    });
  }
  return trainModel({
    rows,
    schema: {
      columns: [
        col('x', 'numeric'),
        col('n', 'integer'),
        col('color', 'categorical'),
        col('label', task === 'regression' ? 'numeric' : 'categorical'),
      ],
    },
    target: 'label',
    task,
    algorithm,
    params: algorithm === 'gbdt' ? { nRounds: 15, earlyStoppingRounds: 0 } : {},
    seed: 4,
  });
}

const MODELS = (['gbdt', 'linear'] as const).flatMap((algorithm) =>
  (['binary', 'multiclass', 'regression'] as const).map((task) => ({
    name: `${algorithm}-${task}`,
    trained: train(task, algorithm),
  })),
);
const INSTANCES = [
  { x: 0.5, n: 1, color: 'red' },
  { x: -0.7, n: 6, color: 'blue' },
  { x: null, n: 3, color: null },
  { x: 0.05, n: null, color: 'unseen-colour' },
  { x: 3.5, n: 2, color: 'green' },
];

const osThreads = (): number => readdirSync('/proc/self/task').length;

async function engineLoads(tp: TestPlatform, engine: string): Promise<number> {
  const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
  const line = m.text
    .split('\n')
    .find((l) => l.startsWith(`tenantml_model_engine_loads_total{engine="${engine}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

for (const kind of STORE_KINDS) {
  describe(`inference engines (${kind})`, () => {
    const platforms: Record<'auto' | 'onnxruntime', TestPlatform> = {} as never;
    const keys: Record<string, string> = {};
    before(async () => {
      for (const engine of ['auto', 'onnxruntime'] as const) {
        const tp = await createTestPlatform(kind, { env: { TENANTML_INFERENCE_ENGINE: engine } });
        platforms[engine] = tp;
        const t = await tp.tenant(`eng-${engine}`);
        keys[engine] = t.predict;
        const scope = mintTenantScope(t.id, SYSTEM);
        for (const m of MODELS) await registerTrained(tp.platform, scope, m.name, m.trained);
        await registerImported(tp.platform, 'imported');
      }
    });
    after(async () => {
      for (const tp of Object.values(platforms)) await tp.cleanup();
    });

    test('auto and onnxruntime give the same predictions for every trained family and task', async () => {
      for (const m of [...MODELS.map((x) => x.name), 'imported']) {
        const instances =
          m === 'imported'
            ? [
                { x: 0.5, n: 1 },
                { x: -0.5, n: null },
              ]
            : INSTANCES;
        const answers = [];
        for (const engine of ['auto', 'onnxruntime'] as const) {
          const r = await platforms[engine].call({
            method: 'POST',
            url: `/v1/models/${m}/predict`,
            key: keys[engine],
            json: { instances },
          });
          assert.equal(r.status, 200, `${m} on ${engine}: ${r.text}`);
          answers.push(r.body.predictions.map(({ id: _, ...p }: { id: string }) => p));
        }
        assert.deepEqual(answers[0], answers[1], m);
        assert.equal(answers[0].length, instances.length);
      }
      // auto ran all seven natively (the imported fixture is a tenantml graph too); onnxruntime none.
      assert.equal(await engineLoads(platforms.auto, 'native'), MODELS.length + 1);
      assert.equal(await engineLoads(platforms.auto, 'onnxruntime'), 0);
      assert.equal(await engineLoads(platforms.onnxruntime, 'onnxruntime'), MODELS.length + 1);
      assert.equal(await engineLoads(platforms.onnxruntime, 'native'), 0);
    });

    test('the v2 protocol answers the same on both engines', async () => {
      const bodies = [];
      for (const engine of ['auto', 'onnxruntime'] as const) {
        const r = await platforms[engine].call({
          method: 'POST',
          url: '/v2/models/gbdt-multiclass/infer',
          key: keys[engine],
          json: {
            inputs: [
              { name: 'x', shape: [2], datatype: 'FP64', data: [0.5, -0.2] },
              { name: 'n', shape: [2], datatype: 'INT64', data: [1, 4] },
              { name: 'color', shape: [2], datatype: 'BYTES', data: ['red', 'green'] },
            ],
          },
        });
        assert.equal(r.status, 200, r.text);
        // Everything but the request's own ids.
        bodies.push(r.body.outputs.filter((o: { name: string }) => o.name !== 'prediction_id'));
      }
      assert.deepEqual(bodies[0], bodies[1]);
      assert.ok(bodies[0].length >= 2, 'label and probabilities compared');
    });

    test('loading many model versions adds no OS thread on either engine', async () => {
      for (const engine of ['auto', 'onnxruntime'] as const) {
        const tp = platforms[engine];
        const t = await tp.tenant(`threads-${engine}`);
        const scope = mintTenantScope(t.id, SYSTEM);
        const predict = (name: string) =>
          tp.call({
            method: 'POST',
            url: `/v1/models/${name}/predict`,
            key: t.predict,
            json: { instances: INSTANCES },
          });
        await registerTrained(tp.platform, scope, 'warm', MODELS[0].trained);
        assert.equal((await predict('warm')).status, 200);
        const before = osThreads();
        for (let i = 0; i < 12; i++) {
          await registerTrained(tp.platform, scope, `many-${i}`, MODELS[i % MODELS.length].trained);
          assert.equal((await predict(`many-${i}`)).status, 200);
        }
        assert.ok(osThreads() <= before + 1, `${engine}: ${before} → ${osThreads()} threads`);
      }
    });
  });
}

test('TENANTML_INFERENCE_ENGINE: auto by default, onnxruntime accepted, anything else refused by name', () => {
  assert.equal(loadConfig({}, '/tmp/tenantml-engine-test').inferenceEngine, 'auto');
  assert.equal(
    loadConfig({ TENANTML_INFERENCE_ENGINE: 'onnxruntime' }, '/tmp/tenantml-engine-test').inferenceEngine,
    'onnxruntime',
  );
  assert.throws(
    () => loadConfig({ TENANTML_INFERENCE_ENGINE: 'tensorrt' }, '/tmp/tenantml-engine-test'),
    /TENANTML_INFERENCE_ENGINE must be auto or onnxruntime \(got "tensorrt"\)/,
  );
});
