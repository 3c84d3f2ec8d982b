import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAppError } from '../../../src/core/errors.ts';
import {
  binMatrix,
  binOf,
  cutsFromSorted,
  radixSortFloat32,
  thresholdOf,
} from '../../../src/ml/gbdt/binning.ts';
import { buildHistogram, histogramSize, subtractHistogram } from '../../../src/ml/gbdt/histogram.ts';
import { predictRaw, predictTrees, trainGbdt } from '../../../src/ml/gbdt/index.ts';
import { computeGradients } from '../../../src/ml/gbdt/objective.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { DenseMatrix, TreeEnsemble } from '../../../src/ml/types.ts';

function matrix(
  rows: number,
  cols: number,
  seed: number,
  fill: (r: number, f: number, u: number) => number,
): DenseMatrix {
  const rng = createRng(seed);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let f = 0; f < cols; f++) data[r * cols + f] = fill(r, f, rng.next());
  return { kind: 'dense', rows, cols, data };
}

const uniform = (rows: number, cols: number, seed: number) =>
  matrix(rows, cols, seed, (_r, _f, u) => u * 2 - 1);

function accuracy(P: Float64Array, y: Float64Array, width: number): number {
  let ok = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let k = 1; k < width; k++) if (P[r * width + k] > P[r * width + best]) best = k;
    if (best === y[r]) ok++;
  }
  return ok / y.length;
}

function trainLoss(model: TreeEnsemble, X: DenseMatrix, y: Float64Array): number {
  const K = model.nOutputs;
  const n = X.rows;
  return computeGradients(
    model.task,
    K,
    predictRaw(model, X),
    y,
    new Float64Array(n * K),
    new Float64Array(n * K),
    new Float64Array(K),
  );
}

describe('gbdt binning', () => {
  test('cuts are float32 and keep every sample value on its own side', () => {
    const X = matrix(3000, 3, 4, (_r, f, u) =>
      f === 0 ? Math.round(u * 10) : f === 1 ? u * 1e-3 + 1 : u ** 3,
    );
    const binned = binMatrix(X, 255, 200_000, createRng(1));
    for (let f = 0; f < 3; f++) {
      const cuts = binned.cuts[f];
      assert.ok(binned.nBins[f] <= 255);
      for (let b = 0; b < cuts.length; b++) {
        assert.equal(Math.fround(cuts[b]), cuts[b]);
        if (b > 0) assert.ok(cuts[b] > cuts[b - 1]);
      }
      for (let r = 0; r < X.rows; r++) {
        const bin = binned.bins[f * X.rows + r];
        const x = Math.fround(X.data[r * 3 + f]);
        // bin <= b exactly when x < threshold(b): the rule the predictor and ONNX apply.
        for (const b of [0, Math.floor(cuts.length / 2), cuts.length - 1]) {
          if (b < 0) continue;
          assert.equal(bin <= b, x < thresholdOf(binned, f, b));
        }
      }
    }
    // 11 distinct values → 11 bins; the third column has many distinct values → capped.
    assert.equal(binned.nBins[0], 11);
    assert.equal(binned.nBins[2], 255);
  });

  test('NaN goes to the reserved missing bin; adjacent float32 values are separated', () => {
    const a = Math.fround(0.3);
    const b = a + 2 ** -25; // next float32 above 0.3 (ulp of 0.3 is 2^-25)
    assert.equal(Math.fround(b), b);
    const cuts = cutsFromSorted(Float32Array.from([a, a, b, b]), 255);
    assert.equal(cuts.length, 1);
    assert.equal(binOf(cuts, a), 0);
    assert.equal(binOf(cuts, b), 1);
    const X: DenseMatrix = { kind: 'dense', rows: 3, cols: 1, data: Float64Array.from([a, Number.NaN, b]) };
    const binned = binMatrix(X, 255, 200_000, createRng(1));
    assert.deepEqual(Array.from(binned.bins), [0, 2, 1]);
  });
});

test('radix sort orders float32 values like TypedArray#sort', () => {
  const rng = createRng(5);
  for (const n of [0, 1, 7, 5000]) {
    const a = Float32Array.from({ length: n }, () => {
      const u = rng.next();
      return u < 0.1 ? 0 : (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 20 - 10);
    });
    const expected = Array.from(a.slice().sort());
    assert.deepEqual(Array.from(radixSortFloat32(a, new Uint32Array(n), new Uint32Array(n))), expected);
  }
});

describe('gbdt histograms', () => {
  test('subtraction gives the same histogram as building the sibling directly', () => {
    const X = matrix(2000, 5, 8, (_r, f, u) => (f === 2 && u < 0.2 ? Number.NaN : u));
    const binned = binMatrix(X, 64, 200_000, createRng(2));
    const rng = createRng(3);
    const g = Float64Array.from({ length: 2000 }, () => rng.next() - 0.5);
    const h = Float64Array.from({ length: 2000 }, () => rng.next());
    const features = Int32Array.from([0, 1, 2, 3, 4]);
    const all = Int32Array.from({ length: 2000 }, (_, i) => i);
    const left = all.filter((r) => X.data[r * 5] < 0.4);
    const right = all.filter((r) => !(X.data[r * 5] < 0.4));
    const size = histogramSize(binned);
    const gOrd = new Float64Array(2000);
    const hOrd = new Float64Array(2000);
    const parent = new Float64Array(size);
    const small = new Float64Array(size);
    const direct = new Float64Array(size);
    buildHistogram(parent, binned, features, all, 0, 2000, g, h, gOrd, hOrd);
    buildHistogram(small, binned, features, left, 0, left.length, g, h, gOrd, hOrd);
    buildHistogram(direct, binned, features, right, 0, right.length, g, h, gOrd, hOrd);
    subtractHistogram(parent, small);
    for (let i = 0; i < size; i++) assert.ok(Math.abs(parent[i] - direct[i]) < 1e-9, `slot ${i}`);
    // And the histogram really sums: total hessian = sum of h.
    let total = 0;
    for (let i = 1; i < size; i += 2) total += direct[i] + small[i];
    assert.ok(Math.abs(total - 5 * h.reduce((s, v) => s + v, 0)) < 1e-6);
  });
});

describe('gbdt training', () => {
  test('learns separable binary data', () => {
    const X = uniform(1000, 4, 1);
    const y = Float64Array.from({ length: 1000 }, (_, r) =>
      X.data[r * 4 + 1] + X.data[r * 4 + 2] > 0 ? 1 : 0,
    );
    const { model } = trainGbdt(X, y, 'binary', 2, { nRounds: 100 }, { seed: 1 });
    assert.equal(model.nOutputs, 1);
    assert.ok(accuracy(predictTrees(model, X), y, 2) >= 0.98);
    const Xt = uniform(500, 4, 2);
    const yt = Float64Array.from({ length: 500 }, (_, r) =>
      Xt.data[r * 4 + 1] + Xt.data[r * 4 + 2] > 0 ? 1 : 0,
    );
    assert.ok(accuracy(predictTrees(model, Xt), yt, 2) >= 0.93);
  });

  test('squared error fits a step function', () => {
    const X = uniform(800, 2, 3);
    const step = (x: number) => (x < -0.25 ? 1 : x < 0.5 ? 5 : -2);
    const y = Float64Array.from({ length: 800 }, (_, r) => step(X.data[r * 2]));
    const { model } = trainGbdt(X, y, 'regression', 1, { nRounds: 150, maxDepth: 3 }, { seed: 1 });
    const P = predictTrees(model, X);
    let maxErr = 0;
    let sumErr = 0;
    for (let r = 0; r < 800; r++) {
      maxErr = Math.max(maxErr, Math.abs(P[r] - y[r]));
      sumErr += Math.abs(P[r] - y[r]);
    }
    // The levels are 1, 5 and -2: a model that missed a step would be off by 3 or more somewhere.
    assert.ok(maxErr < 0.1, `max error ${maxErr}`);
    assert.ok(sumErr / 800 < 0.005, `mean error ${sumErr / 800}`);
  });

  test('multiclass: one tree per class per round, softmax probabilities', () => {
    const X = uniform(1200, 3, 5);
    const y = Float64Array.from({ length: 1200 }, (_, r) => {
      const a = X.data[r * 3];
      const b = X.data[r * 3 + 2];
      return a > 0 ? (b > 0 ? 0 : 1) : 2;
    });
    const { model, history } = trainGbdt(X, y, 'multiclass', 3, { nRounds: 40 }, { seed: 2 });
    assert.equal(model.trees.length, 40 * 3);
    assert.deepEqual(
      model.trees.slice(0, 6).map((t) => t.output),
      [0, 1, 2, 0, 1, 2],
    );
    const P = predictTrees(model, X);
    for (let r = 0; r < 10; r++) assert.ok(Math.abs(P[r * 3] + P[r * 3 + 1] + P[r * 3 + 2] - 1) < 1e-12);
    assert.ok(accuracy(P, y, 3) >= 0.97);
    assert.ok(history[39].trainLoss < history[0].trainLoss);
  });

  test('learns a default direction for missing values when missingness is predictive', () => {
    // Feature 0 is NaN for exactly the positive rows, in 30% of the data; otherwise noise.
    const rng = createRng(9);
    const n = 1000;
    const data = new Float64Array(n * 2);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const missing = rng.next() < 0.3;
      y[r] = missing ? 1 : 0;
      data[r * 2] = missing ? Number.NaN : rng.next();
      data[r * 2 + 1] = rng.next();
    }
    const X: DenseMatrix = { kind: 'dense', rows: n, cols: 2, data };
    const { model } = trainGbdt(X, y, 'binary', 2, { nRounds: 20, maxDepth: 2 }, { seed: 1 });
    const t0 = model.trees[0];
    assert.equal(t0.feature[0], 0, 'the root splits on the feature whose missingness is the signal');
    assert.equal(t0.threshold[0], Number.POSITIVE_INFINITY, 'the split is "value vs missing"');
    assert.equal(t0.missingLeft[0], 0);
    const probe: DenseMatrix = {
      kind: 'dense',
      rows: 2,
      cols: 2,
      data: Float64Array.from([Number.NaN, 0.5, 0.5, 0.5]),
    };
    const P = predictTrees(model, probe);
    assert.ok(P[1] > 0.9 && P[3] < 0.1, `p(missing)=${P[1]} p(present)=${P[3]}`);

    // When missingness points the other way round, the learned direction flips.
    const y2 = y.map((v) => 1 - v);
    const m2 = trainGbdt(X, y2, 'binary', 2, { nRounds: 20, maxDepth: 2 }, { seed: 1 }).model;
    const P2 = predictTrees(m2, probe);
    assert.ok(P2[1] < 0.1 && P2[3] > 0.9);
  });

  test('a NaN in a feature split on values follows the learned side', () => {
    // y = x0 > 0, and rows with x0 missing are positives: NaN must be routed with the right child.
    const rng = createRng(4);
    const n = 1200;
    const data = new Float64Array(n);
    const y = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const u = rng.next();
      if (u < 0.15) {
        data[r] = Number.NaN;
        y[r] = 1;
      } else {
        data[r] = rng.next() * 2 - 1;
        y[r] = data[r] > 0 ? 1 : 0;
      }
    }
    const X: DenseMatrix = { kind: 'dense', rows: n, cols: 1, data };
    const { model } = trainGbdt(X, y, 'binary', 2, { nRounds: 30, maxDepth: 1 }, { seed: 1 });
    assert.ok(accuracy(predictTrees(model, X), y, 2) >= 0.99);
  });

  test('early stopping stops and keeps the best round', () => {
    // Pure-noise labels: the validation loss can only get worse after the first rounds.
    const X = uniform(600, 5, 10);
    const rng = createRng(11);
    const y = Float64Array.from({ length: 600 }, () => (rng.next() < 0.5 ? 1 : 0));
    const Xv = uniform(300, 5, 12);
    const yv = Float64Array.from({ length: 300 }, () => (rng.next() < 0.5 ? 1 : 0));
    const seen: number[] = [];
    const res = trainGbdt(
      X,
      y,
      'binary',
      2,
      { nRounds: 200, earlyStoppingRounds: 5, maxDepth: 6 },
      { seed: 3, valid: { X: Xv, y: yv }, onIteration: (i) => seen.push(i) },
    );
    assert.ok(res.history.length < 200, `ran ${res.history.length} rounds`);
    assert.equal(res.history.length, res.bestIteration + 6);
    assert.equal(res.model.trees.length, res.bestIteration + 1);
    assert.equal(seen.length, res.history.length);
    const best = Math.min(...res.history.map((h) => h.validMetric ?? Number.POSITIVE_INFINITY));
    assert.equal(res.history[res.bestIteration].validMetric, best);
  });

  test('continued training from init adds trees on top and lowers training loss', () => {
    const X = uniform(1000, 4, 13);
    const y = Float64Array.from(
      { length: 1000 },
      (_, r) => Math.sin(3 * X.data[r * 4]) + X.data[r * 4 + 1] ** 2,
    );
    const base = trainGbdt(X, y, 'regression', 1, { nRounds: 10, maxDepth: 3 }, { seed: 1 }).model;
    const tuned = trainGbdt(
      X,
      y,
      'regression',
      1,
      { nRounds: 20, maxDepth: 3 },
      { seed: 2, init: base },
    ).model;
    assert.equal(tuned.trees.length, 30);
    assert.deepEqual(tuned.trees.slice(0, 10), base.trees);
    assert.deepEqual(Array.from(tuned.baseScore), Array.from(base.baseScore));
    assert.ok(trainLoss(tuned, X, y) < 0.5 * trainLoss(base, X, y));

    // A base for another task is refused.
    assert.throws(
      () => trainGbdt(X, y, 'regression', 1, {}, { seed: 1, init: { ...base, nFeatures: 3 } }),
      (e: unknown) => isAppError(e) && e.code === 'validation_failed',
    );
  });

  test('row and column subsampling are reproducible with the same seed', () => {
    const X = uniform(700, 8, 14);
    const y = Float64Array.from({ length: 700 }, (_, r) => X.data[r * 8] + 2 * X.data[r * 8 + 3]);
    const params = { nRounds: 15, subsample: 0.6, colsample: 0.5, maxDepth: 4 };
    const a = trainGbdt(X, y, 'regression', 1, params, { seed: 42 }).model;
    const b = trainGbdt(X, y, 'regression', 1, params, { seed: 42 }).model;
    const c = trainGbdt(X, y, 'regression', 1, params, { seed: 43 }).model;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    // Column sampling really restricts each tree to half of the features.
    for (const t of a.trees) {
      const used = new Set(Array.from(t.feature).filter((_, i) => t.left[i] !== -1));
      assert.ok(used.size <= 4);
    }
  });

  test('loss-guided growth respects maxLeaves', () => {
    const X = uniform(1500, 3, 15);
    const y = Float64Array.from({ length: 1500 }, (_, r) => Math.sin(5 * X.data[r * 3]) + X.data[r * 3 + 1]);
    const { model } = trainGbdt(
      X,
      y,
      'regression',
      1,
      { nRounds: 5, growPolicy: 'lossguide', maxLeaves: 7, maxDepth: 0 },
      { seed: 1 },
    );
    for (const t of model.trees) assert.equal(Array.from(t.left).filter((l) => l === -1).length, 7);
  });

  test('invalid parameters and labels are rejected with the offending field', () => {
    const X = uniform(20, 2, 1);
    const y = new Float64Array(20);
    assert.throws(
      () => trainGbdt(X, y, 'binary', 2, { maxBins: 300 }, { seed: 1 }),
      (e: unknown) => isAppError(e) && e.errors?.[0].field === 'params.maxBins',
    );
    assert.throws(
      () => trainGbdt(X, y, 'binary', 2, { maxDepht: 3 } as never, { seed: 1 }),
      (e: unknown) => isAppError(e) && e.errors?.[0].field === 'params.maxDepht',
    );
    assert.throws(
      () => trainGbdt(X, y, 'binary', 2, { learningRate: '0.1' } as never, { seed: 1 }),
      (e: unknown) => isAppError(e) && e.errors?.[0].field === 'params.learningRate',
    );
    y[3] = 2;
    assert.throws(
      () => trainGbdt(X, y, 'binary', 2, {}, { seed: 1 }),
      (e: unknown) => isAppError(e) && e.errors?.[0].field === 'y' && e.errors?.[0].index === 3,
    );
  });
});
