// A loaded model's session options (no memory arena, no memory patterns, basic graph optimisation — chosen
// for resident bytes) must not change a single prediction: the same trained trees, opened the way this
// runtime opens them and with the fully optimised options used before, give the same outputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ColumnSchema } from '../../../src/core/types.ts';
import { trainModel } from '../../../src/ml/train.ts';
import { estimateBytes, loadModel, SESSION_OPTIONS } from '../../../src/runtime/loaded-model.ts';

const col = (name: string, type: 'numeric' | 'categorical'): ColumnSchema => ({
  name,
  type,
  nullable: false,
  missing: 0,
  distinct: 100,
  distinctApprox: false,
  identifying: false,
  identifyingReasons: [],
});

test('the memory-lean session options predict exactly what fully optimised sessions predict', async () => {
  let s = 42;
  const r = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const rows = Array.from({ length: 400 }, () => {
    const a = r() * 2 - 1;
    const b = r() * 2 - 1;
    const c = r() * 2 - 1;
    return { a, b, c, label: a - 0.5 * b + 0.3 * c * a + (r() - 0.5) * 0.4 > 0 ? 'yes' : 'no' };
  });
  const trained = trainModel({
    rows,
    schema: {
      columns: [col('a', 'numeric'), col('b', 'numeric'), col('c', 'numeric'), col('label', 'categorical')],
    },
    target: 'label',
    task: 'binary',
    algorithm: 'gbdt',
    params: { nRounds: 40, maxDepth: 4, earlyStoppingRounds: 0 },
    seed: 3,
  });
  const onnx = trained.onnx!;
  const nFeatures = trained.featurizer.nFeatures;
  const n = 64;
  const input = new Float32Array(n * nFeatures);
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 7.3) * 1.5;

  const m = await loadModel(
    'k',
    onnx,
    {
      task: 'binary',
      classes: ['no', 'yes'],
      inputSchema: [],
      featurizer: trained.featurizer,
      imported: null,
    },
    // ONNX Runtime's session under SESSION_OPTIONS (auto would run this graph natively).
    { batchWindowMs: 0, featurizerBytes: 1000, engine: 'onnxruntime' },
  );
  assert.equal(m.engine, 'onnxruntime');
  const { outputs: lean } = await m.batcher.submit(input, n);

  const full = await ort.InferenceSession.create(onnx, {
    ...SESSION_OPTIONS,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
  });
  const ref = await full.run({ input: new ort.Tensor('float32', input, [n, nFeatures]) });
  assert.deepEqual(Object.keys(lean).sort(), Object.keys(ref).sort());
  for (const name of Object.keys(ref)) {
    assert.deepEqual(Array.from(lean[name].data), Array.from(ref[name].data as ArrayLike<unknown>), name);
  }
  // Both classes occur, so the comparison is not between two constant outputs.
  const labels = new Set(Array.from(ref.label.data as ArrayLike<unknown>, String));
  assert.equal(labels.size, 2);
  await full.release();
  await m.dispose();
  // The estimate covers the measured resident size of such a session (≈ 9.9× the file for small models).
  assert.ok(m.bytes >= onnx.byteLength * 9.9, `estimate ${m.bytes} for ${onnx.byteLength} ONNX bytes`);
  assert.equal(estimateBytes(0, 0), 64 * 1024);
});
