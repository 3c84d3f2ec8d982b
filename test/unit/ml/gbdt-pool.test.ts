// Trees trained with histograms built on worker threads are the very trees trained inline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { binMatrix } from '../../../src/ml/gbdt/binning.ts';
import { buildHistogram, histogramSize } from '../../../src/ml/gbdt/histogram.ts';
import { type GbdtParams, type GbdtResult, trainGbdt } from '../../../src/ml/gbdt/index.ts';
import { HOLDOUT_MIN_ROWS, trainGbdtStopped } from '../../../src/ml/gbdt/stopping.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { DenseMatrix, Task } from '../../../src/ml/types.ts';
import {
  createHistogramPool,
  type ThreadedHistogramPool,
} from '../../../src/runtime/threads/histogram-pool.ts';

/** rows × cols uniform in [-1, 1) with a share of NaN cells, and labels of the task from a few features. */
function problem(rows: number, cols: number, task: Task, seed: number, nanShare = 0.05) {
  const rng = createRng(seed);
  const data = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = 0; f < cols; f++) {
      const v = rng.next() * 2 - 1;
      data[r * cols + f] = rng.next() < nanShare ? Number.NaN : v;
      if (f < 6) s += (f % 2 === 0 ? 1 : -0.6) * v + (f === 2 ? v * v : 0);
    }
    const noisy = s + 0.3 * (rng.next() - 0.5);
    y[r] =
      task === 'regression'
        ? noisy
        : task === 'binary'
          ? noisy > 0
            ? 1
            : 0
          : noisy < -0.4
            ? 0
            : noisy < 0.4
              ? 1
              : 2;
  }
  const X: DenseMatrix = { kind: 'dense', rows, cols, data };
  return { X, y };
}

let pool: ThreadedHistogramPool;
before(async () => {
  // minCells 0: every build of these small problems is split between the two threads.
  pool = await createHistogramPool({ threads: 2, minCells: 0 });
});
after(async () => {
  await pool.close();
});

function both(
  task: Task,
  params: Partial<GbdtParams>,
  opts: { rows?: number; cols?: number; seed?: number; valid?: boolean; nanShare?: number } = {},
): [GbdtResult, GbdtResult] {
  const { X, y } = problem(opts.rows ?? 1500, opts.cols ?? 19, task, opts.seed ?? 7, opts.nanShare);
  const V = opts.valid ? problem(400, opts.cols ?? 19, task, (opts.seed ?? 7) + 100) : undefined;
  const K = task === 'multiclass' ? 3 : 2;
  const run = (histogramPool?: ThreadedHistogramPool) =>
    trainGbdt(
      X,
      y,
      task,
      K,
      { nRounds: 12, ...params },
      {
        seed: 3,
        ...(V ? { valid: V } : {}),
        ...(histogramPool ? { histogramPool } : {}),
      },
    );
  const before = pool.stats().sharedBuilds;
  const single = run();
  const pooled = run(pool);
  assert.ok(pool.stats().sharedBuilds > before, 'the pooled training split its builds');
  return [single, pooled];
}

describe('gbdt with a 2-thread histogram pool', () => {
  test('binary with missing values: identical trees, base score and history', () => {
    const [a, b] = both('binary', { maxDepth: 5 }, { valid: true });
    assert.deepStrictEqual(b.model, a.model);
    assert.deepStrictEqual(b.history, a.history);
    assert.equal(b.bestIteration, a.bestIteration);
    assert.ok(
      a.model.trees.some((t) => t.missingLeft.some((m) => m === 1)),
      'a learned NaN direction is compared',
    );
  });

  test('multiclass: identical trees', () => {
    const [a, b] = both('multiclass', { maxDepth: 4 });
    assert.equal(a.model.trees.length, 36);
    assert.deepStrictEqual(b.model, a.model);
  });

  test('regression, loss-guided: identical trees', () => {
    const [a, b] = both('regression', { growPolicy: 'lossguide', maxLeaves: 20, maxDepth: 0 });
    assert.deepStrictEqual(b.model, a.model);
  });

  test('row and column subsampling: identical trees', () => {
    const [a, b] = both('binary', { subsample: 0.7, colsample: 0.6, maxDepth: 6 }, { cols: 23, seed: 11 });
    assert.deepStrictEqual(b.model, a.model);
    const used = new Set(a.model.trees.flatMap((t) => Array.from(t.feature).filter((f) => f >= 0)));
    assert.ok(used.size > 1);
  });

  test('many features (blocks of eight and four) and few: identical trees', () => {
    const [a, b] = both('binary', { maxDepth: 3 }, { cols: 61, rows: 800, seed: 5 });
    assert.deepStrictEqual(b.model, a.model);
    const [c, d] = both('regression', { maxDepth: 3 }, { cols: 3, rows: 800, seed: 6, nanShare: 0.3 });
    assert.deepStrictEqual(d.model, c.model);
  });

  test('a larger problem: the worker thread builds part of the histograms, the trees are identical', () => {
    const before = pool.stats().workerBlocks;
    const [a, b] = both('binary', { maxDepth: 6 }, { rows: 20_000, cols: 40, seed: 9 });
    assert.ok(pool.stats().workerBlocks > before, 'the worker thread ran blocks');
    assert.deepStrictEqual(b.model, a.model);
  });

  test('rounds chosen on the training rows (folds, hold-out, refit, continued): identical models', () => {
    for (const rows of [600, HOLDOUT_MIN_ROWS + 200]) {
      const { X, y } = problem(rows, 11, 'binary', 31);
      const run = (histogramPool?: ThreadedHistogramPool) =>
        trainGbdtStopped(
          X,
          y,
          'binary',
          2,
          { nRounds: 25, maxDepth: 4 },
          { seed: 4, strata: Int32Array.from(y), ...(histogramPool ? { histogramPool } : {}) },
        );
      const before = pool.stats().sharedBuilds;
      const a = run();
      const b = run(pool);
      assert.ok(pool.stats().sharedBuilds > before);
      assert.equal(a.stopping.method, rows < HOLDOUT_MIN_ROWS ? 'cv' : 'holdout');
      assert.deepStrictEqual(b, a);
      const more = problem(300, 11, 'binary', 32);
      const c = trainGbdtStopped(more.X, more.y, 'binary', 2, { nRounds: 10 }, { seed: 5, init: a.model });
      const d = trainGbdtStopped(
        more.X,
        more.y,
        'binary',
        2,
        { nRounds: 10 },
        { seed: 5, init: a.model, histogramPool: pool },
      );
      assert.deepStrictEqual(d, c);
    }
  });

  test('one pooled build equals buildHistogram bit for bit on a node and a feature subset', () => {
    const { X } = problem(2000, 17, 'regression', 21, 0.1);
    const binned = binMatrix(X, 255, 200_000, createRng(1), (bytes) => pool.allocate(bytes));
    const rng = createRng(2);
    // Filled in place: TypedArray#map would return a copy outside shared memory.
    const g = new Float64Array(pool.allocate(8 * 2000));
    const h = new Float64Array(pool.allocate(8 * 2000));
    for (let r = 0; r < 2000; r++) {
      g[r] = rng.next() - 0.5;
      h[r] = rng.next();
    }
    const rows = new Int32Array(pool.allocate(4 * 2000));
    let m = 0;
    for (let r = 0; r < 2000; r++) if (rng.next() < 0.4) rows[m++] = r;
    const size = histogramSize(binned);
    const shared = pool.stats().sharedBuilds;
    const scratch = () => [new Float64Array(2000), new Float64Array(2000)] as const;
    for (const features of [
      Int32Array.from({ length: 17 }, (_, i) => i),
      Int32Array.of(0, 3, 4, 9, 12, 16),
    ]) {
      const expected = new Float64Array(size);
      buildHistogram(expected, binned, features, rows, 5, m, g, h, ...scratch());
      const got = new Float64Array(pool.allocate(8 * size)).fill(123);
      pool.build(got, binned, features, rows, 5, m, g, h, ...scratch());
      assert.deepStrictEqual(got, expected);
    }
    assert.equal(pool.stats().sharedBuilds, shared + 2, 'both builds were split between the threads');
    pool.release();
  });
});
