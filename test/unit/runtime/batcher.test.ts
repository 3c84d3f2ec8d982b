// The micro-batcher: requests within the window share one run and get back exactly their own rows;
// window 0 batches only what arrives in one event-loop turn; a failed run fails every request in it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MicroBatcher, type Outputs } from '../../../src/runtime/batcher.ts';

/** A "model" of 2 features: out = x0 + 10·x1 per row, and a 2-wide output [x0, x1]. */
function fakeRun(calls: number[]) {
  return async (input: Float32Array, rows: number): Promise<Outputs> => {
    calls.push(rows);
    const sum = new Float32Array(rows);
    for (let r = 0; r < rows; r++) sum[r] = input[2 * r] + 10 * input[2 * r + 1];
    return { sum: { data: sum, dims: [rows, 1] }, echo: { data: input.slice(), dims: [rows, 2] } };
  };
}

describe('micro-batcher', () => {
  test('requests within the window run as one call and split back by row', async () => {
    const calls: number[] = [];
    const b = new MicroBatcher(fakeRun(calls), 2, 20);
    const results = await Promise.all([
      b.submit(Float32Array.from([1, 2]), 1),
      b.submit(Float32Array.from([3, 4, 5, 6]), 2),
      b.submit(Float32Array.from([7, 8]), 1),
    ]);
    const [r1, r2, r3] = results.map((r) => r.outputs);
    assert.deepEqual(calls, [4]);
    assert.deepEqual(Array.from(r1.sum.data), [21]);
    assert.deepEqual(Array.from(r2.sum.data), [43, 65]);
    assert.deepEqual(Array.from(r3.sum.data), [87]);
    assert.deepEqual(Array.from(r2.echo.data), [3, 4, 5, 6]);
    assert.deepEqual(r2.echo.dims, [2, 2]);
    assert.deepEqual(b.stats, { calls: 1, requests: 3, rows: 4 });
    // The run's time is split by rows: the two-row request carries twice a one-row request's share.
    const ms = results.map((r) => r.computeMs);
    assert.ok(ms[0] >= 0 && Math.abs(ms[1] - 2 * ms[0]) < 1e-9 && Math.abs(ms[2] - ms[0]) < 1e-9);
  });

  test('compute time of a run is measured and split by rows', async () => {
    const slow = async (_input: Float32Array, rows: number) => {
      await new Promise((r) => setTimeout(r, 30));
      return { sum: { data: new Float32Array(rows), dims: [rows] } };
    };
    const b = new MicroBatcher(slow, 1, 0);
    const [a, c] = await Promise.all([b.submit(new Float32Array(3), 3), b.submit(new Float32Array(1), 1)]);
    assert.ok(a.computeMs + c.computeMs >= 25, `total ${a.computeMs + c.computeMs}`);
    assert.ok(Math.abs(a.computeMs - 3 * c.computeMs) < 1e-9);
  });

  test('window 0: requests of the same event-loop turn share one run, later ones the next, nothing waits for a timer', async () => {
    const calls: number[] = [];
    const b = new MicroBatcher(fakeRun(calls), 2, 0);
    const p1 = b.submit(Float32Array.from([1, 2]), 1);
    const p2 = b.submit(Float32Array.from([3, 4]), 1);
    const [r1, r2] = (await Promise.all([p1, p2])).map((r) => r.outputs);
    assert.deepEqual(calls, [2]);
    assert.deepEqual(Array.from(r1.sum.data), [21]);
    assert.deepEqual(Array.from(r2.sum.data), [43]);
    const started = performance.now();
    await b.submit(Float32Array.from([5, 6]), 1);
    assert.ok(performance.now() - started < 50);
    assert.deepEqual(calls, [2, 1]);
    assert.deepEqual(b.stats, { calls: 2, requests: 3, rows: 3 });
  });

  test('a full batch runs without waiting for the window', async () => {
    const calls: number[] = [];
    const b = new MicroBatcher(fakeRun(calls), 2, 10_000, 4);
    const started = performance.now();
    await Promise.all([b.submit(new Float32Array(4), 2), b.submit(new Float32Array(4), 2)]);
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(calls, [4]);
  });

  test('a failed run rejects every request of the batch', async () => {
    const b = new MicroBatcher(
      async () => {
        throw new Error('boom');
      },
      1,
      5,
    );
    const res = await Promise.allSettled([
      b.submit(new Float32Array(1), 1),
      b.submit(new Float32Array(1), 1),
    ]);
    assert.deepEqual(
      res.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  test('a request whose input does not match rows × cols is refused', () => {
    const b = new MicroBatcher(fakeRun([]), 2, 5);
    assert.throws(() => b.submit(new Float32Array(3), 1));
  });
});
