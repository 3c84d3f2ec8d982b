// The native engine against ONNX Runtime on the same model.onnx: models trained with the real trainers
// (GBDT and linear × binary, multiclass, regression) on generated data with numeric and categorical
// columns and gaps, run on featurized instances (NaN where a value is missing) and on random rows with
// NaN. Labels must be identical and every probability / value within 1e-6 relative of ORT's, on batches
// and on single rows; ORT is opened the way the runtime opens it (SESSION_OPTIONS, one thread).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { RawCell } from '../../../src/core/cells.ts';
import { toDense, transformInstances } from '../../../src/ml/featurizer.ts';
import { type TrainedModel, trainModel } from '../../../src/ml/train.ts';
import type { Task } from '../../../src/ml/types.ts';
import type { Outputs } from '../../../src/runtime/batcher.ts';
import { loadModel, SESSION_OPTIONS } from '../../../src/runtime/loaded-model.ts';
import { decodeModel } from '../../../src/runtime/native/decode.ts';
import { processParity } from '../../../src/runtime/native/parity-probe.ts';
import { compileOnnx } from '../../../src/runtime/native/plan.ts';
import { col } from '../../helpers/columns.ts';

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const COLORS = ['red', 'green', 'blue', 'teal', 'plum'];

function makeRows(task: Task, n: number, seed: number): Record<string, RawCell>[] {
  const r = lcg(seed);
  const rows: Record<string, RawCell>[] = [];
  for (let i = 0; i < n; i++) {
    const a = r() * 2 - 1;
    const b = r() * 4 - 2;
    const k = Math.floor(r() * 9);
    const c = COLORS[Math.floor(r() * COLORS.length)];
    const z = a - 0.5 * b + (c === 'red' ? 0.8 : c === 'blue' ? -0.6 : 0) + k / 10 + (r() - 0.5) * 0.3;
    rows.push({
      a: r() < 0.1 ? null : a,
      b,
      k: r() < 0.05 ? null : k,
      c: r() < 0.08 ? null : c,
      label:
        task === 'regression'
          ? z * 3 + 1
          : task === 'binary'
            ? z > 0.2
              ? 'yes'
              : 'no'
            : ['low', 'mid', 'high'][z < -0.3 ? 0 : z < 0.6 ? 1 : 2],
    });
  }
  return rows;
}

function train(task: Task, algorithm: 'gbdt' | 'linear'): TrainedModel {
  return trainModel({
    rows: makeRows(task, 700, task.length * 7 + algorithm.length),
    schema: {
      columns: [
        col('a', 'numeric'),
        col('b', 'numeric'),
        col('k', 'integer'),
        col('c', 'categorical'),
        col('label', task === 'regression' ? 'numeric' : 'categorical'),
      ],
    },
    target: 'label',
    task,
    algorithm,
    params: algorithm === 'gbdt' ? { nRounds: 80, maxDepth: 6, earlyStoppingRounds: 0 } : {},
    seed: 3,
  });
}

/** Each tree threshold by feature, read from the ONNX graph (empty for linear models). */
function thresholds(onnx: Uint8Array, F: number): number[][] {
  const byFeature: number[][] = Array.from({ length: F }, () => []);
  const trees = decodeModel(onnx).nodes.find((n) => n.opType === 'TreeEnsembleRegressor');
  if (!trees) return byFeature;
  const values = trees.attrs.get('nodes_values');
  const features = trees.attrs.get('nodes_featureids');
  const modes = trees.attrs.get('nodes_modes');
  if (values?.type !== 'floats' || features?.type !== 'ints' || modes?.type !== 'strings')
    throw new Error('attrs');
  for (let i = 0; i < values.value.length; i++)
    if (modes.value[i] !== 'LEAF') byFeature[features.value[i]].push(values.value[i]);
  return byFeature;
}

/**
 * The rows to compare on: featurized instances (gaps, unseen categories), rows whose every value sits
 * exactly on one of the trees' thresholds for its feature (where < and <= part), then random rows with NaN.
 */
function inputs(t: TrainedModel, task: Task): { x: Float32Array; rows: number } {
  const F = t.featurizer.nFeatures;
  const instances = makeRows(task, 400, 99).map(({ label: _, ...rest }) => rest);
  instances.push({ a: null, b: null, k: null, c: 'never-seen' }, { a: 1e9, b: -1e9, k: 3, c: 'red' });
  const dense = toDense(transformInstances(t.featurizer, instances).X).data;
  const onThresholds = 300;
  const random = 600;
  const rows = instances.length + onThresholds + random;
  const x = new Float32Array(rows * F);
  x.set(Float32Array.from(dense));
  const r = lcg(7);
  const th = thresholds(t.onnx as Uint8Array, F);
  let i = instances.length * F;
  for (const end = i + onThresholds * F; i < end; i++) {
    const list = th[i % F];
    x[i] = list.length > 0 ? list[Math.floor(r() * list.length)] : r();
  }
  for (; i < x.length; i++) x[i] = r() < 0.08 ? Number.NaN : (r() * 2 - 1) * 4;
  return { x, rows };
}

async function ortRun(onnx: Uint8Array, x: Float32Array, rows: number, F: number): Promise<Outputs> {
  const s = await ort.InferenceSession.create(onnx, { ...SESSION_OPTIONS });
  try {
    const res = await s.run({ input: new ort.Tensor('float32', x, [rows, F]) });
    const out: Outputs = {};
    for (const [k, v] of Object.entries(res))
      out[k] = { data: v.data as Outputs[string]['data'], dims: v.dims };
    return out;
  } finally {
    await s.release();
  }
}

/** Asserts native ≡ ORT: same output names and dims, identical labels, floats within 1e-6 relative. */
function assertParity(native: Outputs, ref: Outputs, what: string): { exact: number; total: number } {
  assert.deepEqual(Object.keys(native).sort(), Object.keys(ref).sort(), what);
  let exact = 0;
  let total = 0;
  for (const name of Object.keys(ref)) {
    const a = ref[name];
    const b = native[name];
    assert.deepEqual([...b.dims], [...a.dims], `${what} ${name} dims`);
    assert.equal(b.data.length, a.data.length);
    assert.equal(b.data.constructor, a.data.constructor, `${what} ${name} element type`);
    for (let i = 0; i < a.data.length; i++) {
      const u = a.data[i];
      const v = b.data[i];
      total++;
      if (typeof u === 'bigint') {
        assert.equal(v, u, `${what} ${name}[${i}]`);
        exact++;
        continue;
      }
      const p = Number(u);
      const q = Number(v);
      if (p === q || (Number.isNaN(p) && Number.isNaN(q))) {
        exact++;
        continue;
      }
      const rel = Math.abs(p - q) / Math.max(Math.abs(p), Number.MIN_VALUE);
      assert.ok(rel <= 1e-6, `${what} ${name}[${i}]: native ${q} vs ORT ${p} (relative ${rel})`);
    }
  }
  return { exact, total };
}

describe('native engine ≡ ONNX Runtime on trained models', () => {
  for (const algorithm of ['gbdt', 'linear'] as const) {
    for (const task of ['binary', 'multiclass', 'regression'] as Task[]) {
      test(`${algorithm} ${task}`, async () => {
        const t = train(task, algorithm);
        const F = t.featurizer.nFeatures;
        const onnx = t.onnx as Uint8Array;
        const plan = compileOnnx(onnx, F);
        const { x, rows } = inputs(t, task);
        const ref = await ortRun(onnx, x, rows, F);
        const { exact, total } = assertParity(plan.run(x, rows), ref, `${algorithm} ${task} batch`);
        // Trees, linear scores, the sigmoid and (up to 16 classes) the softmax reproduce ORT bit for bit.
        assert.equal(exact, total, 'bit-identical outputs');
        // Single rows (what one predict request runs), through the loaded model's batcher.
        const m = await loadModel(
          'k',
          onnx,
          { task, classes: t.modelJson.classes, inputSchema: [], featurizer: t.featurizer, imported: null },
          { batchWindowMs: 0, featurizerBytes: 100 },
        );
        // Native unless the process's parity probe found an operator of the graph differing on this CPU.
        const differs = (await processParity()).differs;
        const usesDiffering = decodeModel(onnx).nodes.some((n) => differs.has(n.opType));
        assert.equal(m.engine, usesDiffering ? 'onnxruntime' : 'native');
        for (let r = 0; r < 40; r++) {
          const row = x.slice(r * F, (r + 1) * F);
          const { outputs } = await m.batcher.submit(row, 1);
          assertParity(outputs, await ortRun(onnx, row, 1, F), `${algorithm} ${task} row ${r}`);
        }
        // The model separates something: not all labels (or values) equal.
        const key = task === 'regression' ? 'value' : 'label';
        assert.ok(new Set(Array.from(ref[key].data as ArrayLike<unknown>, String)).size > 1);
        await m.dispose();
      });
    }
  }
});

test('featurized NaN reaches the trees and follows the missing-value track as in ORT', async () => {
  const t = train('binary', 'gbdt');
  const F = t.featurizer.nFeatures;
  const x = Float32Array.from(
    toDense(transformInstances(t.featurizer, [{ a: null, b: 0.1, k: null, c: null }]).X).data,
  );
  assert.ok(
    x.some((v) => Number.isNaN(v)),
    'the featurizer leaves NaN for trees',
  );
  assertParity(
    compileOnnx(t.onnx as Uint8Array, F).run(x, 1),
    await ortRun(t.onnx as Uint8Array, x, 1, F),
    'nan',
  );
});
