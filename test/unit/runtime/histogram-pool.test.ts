// The worker-thread histogram pool: close() leaves no thread behind, and a worker that fails or
// disappears during a build becomes an error of that build (and of the training), never a hang.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trainGbdt } from '../../../src/ml/gbdt/index.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { DenseMatrix } from '../../../src/ml/types.ts';
import { createHistogramPool } from '../../../src/runtime/threads/histogram-pool.ts';

function data(rows: number, cols: number) {
  const rng = createRng(4);
  const X: DenseMatrix = {
    kind: 'dense',
    rows,
    cols,
    data: new Float64Array(rows * cols).map(() => rng.next()),
  };
  const y = new Float64Array(rows).map((_, r) => (X.data[r * cols] + X.data[r * cols + 1] > 1 ? 1 : 0));
  return { X, y };
}

const failing = new URL('./fixtures/failing-histogram-worker.ts', import.meta.url);

describe('histogram pool', () => {
  test('after close() the process exits by itself: no worker thread is left', () => {
    const child = fileURLToPath(new URL('./fixtures/pool-exit-child.ts', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', child], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(res.error, undefined, 'the child exited before the timeout');
    assert.equal(res.status, 0, res.stderr);
    const stats = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.equal(stats.sharedBuilds, 20);
  });

  test('a closed pool refuses builds; close() twice is harmless', async () => {
    const pool = await createHistogramPool({ threads: 2 });
    assert.equal(pool.threads, 2);
    await pool.close();
    await pool.close();
    const { X, y } = data(300, 4);
    assert.throws(
      () => trainGbdt(X, y, 'binary', 2, { nRounds: 2 }, { seed: 1, histogramPool: pool }),
      /closed/,
    );
  });

  test('threads: 1 builds inline and needs no worker', async () => {
    const pool = await createHistogramPool({ threads: 1, minCells: 0 });
    const { X, y } = data(500, 6);
    const a = trainGbdt(X, y, 'binary', 2, { nRounds: 3 }, { seed: 1 });
    const b = trainGbdt(X, y, 'binary', 2, { nRounds: 3 }, { seed: 1, histogramPool: pool });
    assert.deepStrictEqual(b.model, a.model);
    assert.equal(pool.stats().sharedBuilds, 0);
    assert.ok(pool.stats().inlineBuilds > 0);
    await pool.close();
  });

  for (const mode of ['throw', 'exit'] as const) {
    test(`a worker that ${mode === 'throw' ? 'throws' : 'exits'} during a build fails the training with an error`, async () => {
      process.env.TENANTML_TEST_WORKER_FAILURE = mode;
      const pool = await createHistogramPool({
        threads: 2,
        minCells: 0,
        workerEntry: failing,
        stallMs: 5000,
      });
      delete process.env.TENANTML_TEST_WORKER_FAILURE;
      // Enough features and rows that the worker certainly claims a block before the training ends.
      const { X, y } = data(20_000, 40);
      const expected =
        mode === 'throw'
          ? /histogram worker failed.*injected block failure/
          : /histogram worker (stopped|did not finish)/;
      assert.throws(
        () => trainGbdt(X, y, 'binary', 2, { nRounds: 50 }, { seed: 1, histogramPool: pool }),
        expected,
      );
      // The pool stays broken: a later build does not silently run on a half-dead pool.
      assert.throws(
        () => trainGbdt(X, y, 'binary', 2, { nRounds: 1 }, { seed: 1, histogramPool: pool }),
        expected,
      );
      await pool.close();
    });
  }
});
