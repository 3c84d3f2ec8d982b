// Every family × task exported to ONNX and run in onnxruntime-node must agree with the TypeScript
// prediction to 1e-5.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isAppError } from '../../../src/core/errors.ts';
import { predictTrees, trainGbdt } from '../../../src/ml/gbdt/index.ts';
import { exportOnnx } from '../../../src/ml/onnx/index.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { DenseMatrix, LinearModel, Task } from '../../../src/ml/types.ts';

function randomMatrix(rows: number, cols: number, seed: number, nanRate: number): DenseMatrix {
  const rng = createRng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = rng.next() < nanRate ? Number.NaN : (rng.next() * 2 - 1) * 3;
  }
  return { kind: 'dense', rows, cols, data };
}

/** Linear prediction in float64, written here so that the test does not depend on the trainer. */
function predictLinearLocal(m: LinearModel, X: DenseMatrix): Float64Array {
  const { rows, cols, data } = X;
  const z = new Float64Array(rows * m.nOutputs);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < m.nOutputs; k++) {
      let s = m.intercepts[k];
      for (let f = 0; f < cols; f++) s += m.weights[k * cols + f] * data[r * cols + f];
      z[r * m.nOutputs + k] = s;
    }
  }
  if (m.task === 'regression') return z;
  if (m.task === 'binary') {
    const out = new Float64Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      const p = 1 / (1 + Math.exp(-z[r]));
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
    return out;
  }
  const K = m.nOutputs;
  const out = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) max = Math.max(max, z[r * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[r * K + k] - max);
    for (let k = 0; k < K; k++) out[r * K + k] = Math.exp(z[r * K + k] - max) / sum;
  }
  return out;
}

async function runOnnx(
  bytes: Uint8Array,
  X: DenseMatrix,
  task: Task,
): Promise<{ out: Float32Array; label?: BigInt64Array }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const input = new ort.Tensor('float32', Float32Array.from(X.data), [X.rows, X.cols]);
    const res = await session.run({ input });
    if (task === 'regression') return { out: res.value.data as Float32Array };
    return { out: res.probabilities.data as Float32Array, label: res.label.data as BigInt64Array };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function labels(task: Task, K: number, X: DenseMatrix, seed: number): Float64Array {
  // Labels depend on the features (and on missingness) so the trees have something to learn.
  const rng = createRng(seed);
  const y = new Float64Array(X.rows);
  for (let r = 0; r < X.rows; r++) {
    const x0 = X.data[r * X.cols];
    const x1 = X.data[r * X.cols + 1];
    const a = Number.isNaN(x0) ? 2 : x0;
    const b = Number.isNaN(x1) ? -1 : x1;
    const s = a + 0.5 * b + 0.3 * (rng.next() - 0.5);
    if (task === 'regression') y[r] = s;
    else if (task === 'binary') y[r] = s > 0 ? 1 : 0;
    else y[r] = Math.min(K - 1, Math.max(0, Math.floor((s + 4) / (8 / K))));
  }
  return y;
}

const cases: { task: Task; K: number }[] = [
  { task: 'binary', K: 2 },
  { task: 'multiclass', K: 4 },
  { task: 'regression', K: 1 },
];

describe('ONNX parity: linear', () => {
  for (const { task, K } of cases) {
    test(task, async () => {
      const F = 7;
      const nOut = task === 'multiclass' ? K : 1;
      const rng = createRng(11);
      const model: LinearModel = {
        kind: 'linear',
        task,
        nFeatures: F,
        nOutputs: nOut,
        weights: Float64Array.from({ length: nOut * F }, () => rng.next() * 2 - 1),
        intercepts: Float64Array.from({ length: nOut }, () => rng.next() - 0.5),
      };
      const X = randomMatrix(300, F, 5, 0);
      const expected = predictLinearLocal(model, X);
      const { out, label } = await runOnnx(exportOnnx(model), X, task);
      assert.ok(maxAbsDiff(out, expected) <= 1e-5, `max diff ${maxAbsDiff(out, expected)}`);
      if (label) {
        const width = task === 'binary' ? 2 : K;
        for (let r = 0; r < X.rows; r++) {
          const row = Array.from(out.subarray(r * width, (r + 1) * width));
          assert.equal(Number(label[r]), row.indexOf(Math.max(...row)));
        }
      }
    });
  }
});

test('a model whose output count does not fit its task is refused', () => {
  const bad: LinearModel = {
    kind: 'linear',
    task: 'binary',
    nFeatures: 2,
    nOutputs: 2,
    weights: new Float64Array(4),
    intercepts: new Float64Array(2),
  };
  assert.throws(
    () => exportOnnx(bad),
    (e: unknown) => isAppError(e) && e.errors?.[0].field === 'model.nOutputs',
  );
});

describe('ONNX parity: trees', () => {
  for (const { task, K } of cases) {
    test(task, async () => {
      const X = randomMatrix(1500, 6, 21, 0.1);
      const y = labels(task, K, X, 3);
      const { model } = trainGbdt(X, y, task, K, { nRounds: 30, maxDepth: 4 }, { seed: 7 });
      assert.ok(model.trees.length >= 30);
      const someMissingLeft = model.trees.some((t) =>
        t.missingLeft.some((m, i) => m === 1 && t.left[i] !== -1),
      );
      assert.ok(someMissingLeft, 'the parity data should exercise NaN routing');
      // Score on new rows (with NaNs and values between training values), not only training rows.
      const Xt = randomMatrix(800, 6, 99, 0.15);
      const expected = predictTrees(model, Xt);
      const { out } = await runOnnx(exportOnnx(model), Xt, task);
      const d = maxAbsDiff(out, expected);
      assert.ok(d <= 1e-5, `max diff ${d}`);
    });
  }

  test('loss-guided trees continued from a base model', async () => {
    const X = randomMatrix(1200, 5, 31, 0.1);
    const y = labels('multiclass', 3, X, 8);
    const base = trainGbdt(X, y, 'multiclass', 3, { nRounds: 5 }, { seed: 1 }).model;
    const { model } = trainGbdt(
      X,
      y,
      'multiclass',
      3,
      { nRounds: 10, growPolicy: 'lossguide', maxLeaves: 9, maxDepth: 0, subsample: 0.8, colsample: 0.8 },
      { seed: 2, init: base },
    );
    assert.equal(model.trees.length, 45);
    const Xt = randomMatrix(500, 5, 77, 0.1);
    const { out } = await runOnnx(exportOnnx(model), Xt, 'multiclass');
    assert.ok(maxAbsDiff(out, predictTrees(model, Xt)) <= 1e-5);
  });

  test('a split on training values sends each of them to the same side in ONNX', async () => {
    // Values that are adjacent float32 numbers: a threshold at a poorly chosen midpoint would flip one.
    const base = Math.fround(1.1);
    const next = base + 2 ** -23 * 1.0000001;
    const rows = 200;
    const data = new Float64Array(rows);
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      data[r] = r % 2 === 0 ? base : Math.fround(next);
      y[r] = r % 2;
    }
    const X: DenseMatrix = { kind: 'dense', rows, cols: 1, data };
    const { model } = trainGbdt(X, y, 'binary', 2, { nRounds: 5, minChildWeight: 0 }, { seed: 1 });
    assert.ok(model.trees[0].left[0] !== -1, 'the first tree splits');
    const expected = predictTrees(model, X);
    const { out } = await runOnnx(exportOnnx(model), X, 'binary');
    assert.ok(maxAbsDiff(out, expected) <= 1e-5);
    for (let r = 0; r < rows; r++) assert.equal(expected[2 * r + 1] > 0.5 ? 1 : 0, y[r]);
  });
});
