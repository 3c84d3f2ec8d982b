// The inference engine setting end to end, on both stores: a platform with TENANTML_INFERENCE_ENGINE=auto
// (the default) and one with onnxruntime answer the same predict requests over HTTP with the same
// predictions — GBDT and linear, binary, multiclass and regression, trained with the real trainer, plus
// an imported shared model — while /metrics tells which engine loaded each version; loading many models
// adds no OS thread on either engine; a version that runs in ONNX Runtime says why (the reason label, an
// info log with ids: a CPU whose Softmax differs, an injected compiler bug, the setting); a bad setting
// is refused naming the variable.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../src/core/config.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { type TrainedModel, trainModel } from '../../../src/ml/train.ts';
import { processParity } from '../../../src/runtime/native/parity-probe.ts';
import { compileOnnx } from '../../../src/runtime/native/plan.ts';
import { col } from '../../helpers/columns.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerImported, registerTrained } from './fixtures.ts';

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

/** Loads counted on `engine` (with `reason`, when given) by the platform's /metrics. */
async function engineLoads(tp: TestPlatform, engine: string, reason?: string): Promise<number> {
  const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
  const prefix = `tenantml_model_engine_loads_total{engine="${engine}",reason="${reason ?? ''}`;
  return m.text
    .split('\n')
    .filter((l) => l.startsWith(reason ? `${prefix}"}` : prefix))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
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
      // auto ran all seven natively (the imported fixture is a tenantml graph too) — but for the graphs whose
      // operator the process's parity probe found differing on this CPU (Softmax on some: see
      // native-probe.test.ts), which ONNX Runtime ran with the reason `parity`; nothing else.
      const softmaxDiffers = (await processParity()).differs.has('Softmax');
      const parity = await engineLoads(platforms.auto, 'onnxruntime', 'parity');
      assert.equal((await engineLoads(platforms.auto, 'native', 'none')) + parity, MODELS.length + 1);
      assert.equal(await engineLoads(platforms.auto, 'onnxruntime'), parity);
      if (softmaxDiffers) assert.ok(parity >= 2, `${parity}: both multiclass models use Softmax`);
      else assert.equal(parity, 0);
      // Forced by the configuration: the reason label says so.
      assert.equal(await engineLoads(platforms.onnxruntime, 'onnxruntime', 'forced'), MODELS.length + 1);
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

    test('why a version runs in ONNX Runtime: parity probe, compiler error — counted by reason, logged with ids', async () => {
      const lines: string[] = [];
      const broken = MODELS.find((m) => m.name === 'gbdt-regression')?.trained.onnx as Uint8Array;
      const sameBytes = (a: Uint8Array, b: Uint8Array) =>
        a.byteLength === b.byteLength && Buffer.from(a).equals(b);
      const tp = await createTestPlatform(kind, {
        env: { TENANTML_LOG_LEVEL: 'info' },
        logStream: { write: (l) => lines.push(l) },
        inferenceNative: {
          // A CPU whose Softmax differs from ONNX Runtime's; a compiler bug on one model's bytes.
          parity: async () => ({ differs: new Set(['Softmax']), durationMs: 0 }),
          compile: (onnx, F) => {
            if (sameBytes(onnx, broken)) throw new TypeError('compiler bug');
            return compileOnnx(onnx, F);
          },
        },
      });
      try {
        const t = await tp.tenant('eng-why');
        const scope = mintTenantScope(t.id, SYSTEM);
        for (const m of MODELS.filter((x) => x.name.startsWith('gbdt-')))
          await registerTrained(tp.platform, scope, m.name, m.trained);
        for (const name of ['gbdt-binary', 'gbdt-multiclass', 'gbdt-regression']) {
          const r = await tp.call({
            method: 'POST',
            url: `/v1/models/${name}/predict`,
            key: t.predict,
            json: { instances: INSTANCES },
          });
          assert.equal(r.status, 200, `${name}: ${r.text}`);
        }
        assert.equal(await engineLoads(tp, 'native', 'none'), 1); // binary: Sigmoid is exact here
        assert.equal(await engineLoads(tp, 'onnxruntime', 'parity'), 1); // multiclass: Softmax
        assert.equal(await engineLoads(tp, 'onnxruntime', 'error'), 1); // regression: the compiler bug
        const logs = lines.flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
        const why = logs.filter((l) => l.msg === 'inference: the model version runs in ONNX Runtime');
        assert.deepEqual(why.map((l) => [l.level, l.model, l.version, l.reason, l.detail]).sort(), [
          [30, 'gbdt-multiclass', 1, 'parity', 'parity probe: Softmax differs on this CPU'],
          [30, 'gbdt-regression', 1, 'error', 'native compiler error'],
        ]);
        for (const l of why) assert.equal(l.namespace, t.id);
        const bug = logs.filter(
          (l) => l.level === 40 && String(l.msg).includes('native engine failed to compile'),
        );
        assert.equal(bug.length, 1);
        assert.equal(bug[0].model, 'gbdt-regression');
        // Ids and the reason only: no error text, no instance value, no other field.
        assert.ok(!lines.join('').includes('compiler bug'), 'no error text');
        const fields = (l: Record<string, unknown>) =>
          Object.keys(l)
            .filter((k) => !['level', 'time', 'pid', 'hostname', 'msg', 'name'].includes(k))
            .sort();
        for (const l of why)
          assert.deepEqual(fields(l), ['detail', 'engine', 'model', 'namespace', 'reason', 'version']);
        assert.deepEqual(fields(bug[0]), ['model', 'namespace', 'version']);
      } finally {
        await tp.cleanup();
      }
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
