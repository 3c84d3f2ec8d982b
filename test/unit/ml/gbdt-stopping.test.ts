// Trees choose their round count on their own training rows: an inner hold-out for large data, k-fold
// cross-validation for small, a fixed budget when early stopping is off; then they refit on every row.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { predictTrees, trainGbdt } from '../../../src/ml/gbdt/index.ts';
import {
  HOLDOUT_MIN_ROWS,
  STOP_FOLDS,
  STOP_FRACTION,
  trainGbdtStopped,
} from '../../../src/ml/gbdt/stopping.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { DenseMatrix } from '../../../src/ml/types.ts';

/** rows × 4 uniform features; a binary label from the first two with `noise` share of flipped labels. */
function problem(rows: number, seed: number, noise = 0.1): { X: DenseMatrix; y: Float64Array } {
  const rng = createRng(seed);
  const data = new Float64Array(rows * 4);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < 4; f++) data[r * 4 + f] = rng.next() * 2 - 1;
    const clean = data[r * 4] + 0.5 * data[r * 4 + 1] > 0 ? 1 : 0;
    y[r] = rng.next() < noise ? 1 - clean : clean;
  }
  return { X: { kind: 'dense', rows, cols: 4, data }, y };
}
const strata = (y: Float64Array): Int32Array => Int32Array.from(y);

describe('gbdt rounds chosen on the training rows', () => {
  test('large data: one stratified inner hold-out, then a refit on every row with that round count', () => {
    const n = HOLDOUT_MIN_ROWS + 500;
    const { X, y } = problem(n, 1);
    const res = trainGbdtStopped(
      X,
      y,
      'binary',
      2,
      { nRounds: 300, maxDepth: 4 },
      { seed: 3, strata: strata(y) },
    );
    assert.equal(res.stopping.method, 'holdout');
    assert.equal(res.stopping.rows, Math.round(n * STOP_FRACTION));
    assert.ok(res.stopping.rounds >= 1 && res.stopping.rounds < 300, `kept ${res.stopping.rounds}`);
    assert.equal(res.model.trees.length, res.stopping.rounds);
    assert.ok(res.stopping.metric !== null && res.stopping.metric < 0.5);
    // The refit: exactly a plain run on all rows with that many rounds.
    const plain = trainGbdt(X, y, 'binary', 2, { nRounds: res.stopping.rounds, maxDepth: 4 }, { seed: 3 });
    assert.deepStrictEqual(res.model, plain.model);
  });

  test('small data: k-fold cross-validation over every training row', () => {
    const { X, y } = problem(300, 2, 0.25);
    const seen: number[] = [];
    const res = trainGbdtStopped(
      X,
      y,
      'binary',
      2,
      { nRounds: 200 },
      { seed: 4, strata: strata(y), onIteration: (i) => seen.push(i) },
    );
    assert.equal(res.stopping.method, 'cv');
    assert.equal(res.stopping.folds, STOP_FOLDS);
    assert.equal(res.stopping.rows, 300);
    // Noisy labels and deep trees: far fewer than 200 rounds generalise.
    assert.ok(res.stopping.rounds >= 1 && res.stopping.rounds < 100, `kept ${res.stopping.rounds}`);
    assert.equal(res.model.trees.length, res.stopping.rounds);
    // Progress covers the folds and the refit.
    assert.ok(seen.length > STOP_FOLDS * res.stopping.rounds);
  });

  test('early stopping off, or too few rows: the fixed budget on every row', () => {
    const { X, y } = problem(300, 5);
    const off = trainGbdtStopped(X, y, 'binary', 2, { nRounds: 7, earlyStoppingRounds: 0 }, { seed: 1 });
    assert.deepEqual(off.stopping, { method: 'none', rows: 0, rounds: 7, metric: null });
    assert.equal(off.model.trees.length, 7);
    const tiny = problem(8, 6);
    const few = trainGbdtStopped(tiny.X, tiny.y, 'binary', 2, { nRounds: 5 }, { seed: 1 });
    assert.equal(few.stopping.method, 'none');
    assert.equal(few.model.trees.length, 5);
  });

  test('continued training adds no round when none beats the base on held-out training rows', () => {
    // The base already is the truth (a fair coin, constant 0.5) and the new labels are coin flips with
    // exactly half ones: every round can only fit noise.
    const { X } = problem(400, 7);
    const rng = createRng(8);
    const y = rng.shuffle(Float64Array.from({ length: 400 }, (_, i) => i % 2));
    const base = trainGbdt(X, y, 'binary', 2, { nRounds: 1, minChildWeight: 1e9 }, { seed: 1 }).model;
    assert.ok(Math.abs(predictTrees(base, X)[1] - 0.5) < 1e-6);
    const res = trainGbdtStopped(
      X,
      y,
      'binary',
      2,
      { nRounds: 50 },
      { seed: 2, init: base, strata: strata(y) },
    );
    assert.equal(res.stopping.method, 'cv');
    assert.equal(res.stopping.rounds, 0);
    assert.strictEqual(res.model, base);

    // With signal the base has not learnt, rounds are added on top of it.
    const signal = problem(400, 9, 0.05);
    const more = trainGbdtStopped(signal.X, signal.y, 'binary', 2, { nRounds: 50 }, { seed: 2, init: base });
    assert.ok(more.stopping.rounds > 0);
    assert.equal(more.model.trees.length, base.trees.length + more.stopping.rounds);
    assert.deepEqual(more.model.trees.slice(0, base.trees.length), base.trees);
  });

  test('the same seed gives the same model; another seed another inner split', () => {
    const { X, y } = problem(600, 10, 0.2);
    const run = (seed: number) =>
      trainGbdtStopped(X, y, 'binary', 2, { nRounds: 80, subsample: 0.8 }, { seed, strata: strata(y) });
    const a = run(5);
    assert.deepStrictEqual(run(5), a);
    assert.notDeepStrictEqual(run(6).model, a.model);
  });
});
