// The arithmetic behind `npm run bench -- fairness` (bench/fairness/measure.ts): its figures are only as
// good as these windows, indices and utilisations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cpuWindow, jainIndex, mean, utilisation } from '../../../bench/fairness/measure.ts';

const job = (tenantId: string, at: number, cpuSeconds = 2) => ({ tenantId, at, cpuSeconds });

describe('bench/fairness: measures', () => {
  test('cpuWindow skips the warm-up by served CPU, then takes whole jobs in finishing order', () => {
    const finished = [
      job('b', 4),
      job('a', 1),
      job('a', 2),
      job('b', 3),
      job('a', 5, 3),
      job('a', 6),
      job('b', 7),
    ];
    const w = cpuWindow(finished, ['a', 'b'], 4, 5);
    // Warm-up: the jobs at 1 and 2 (4 CPU-s). Window: 3 (b, 2), 4 (b, 2), 5 (a, 3) → 7 CPU-s ≥ 5.
    assert.equal(w.warmupCpu, 4);
    assert.deepEqual(w.served, { a: 3, b: 4 });
    assert.deepEqual(w.jobs, { a: 1, b: 2 });
    assert.equal(w.windowCpu, 7);
    assert.equal(w.from, 3);
    assert.equal(w.to, 5);
    assert.equal(w.complete, true);
  });

  test('cpuWindow says incomplete when the jobs run out, and lists idle tenants with 0', () => {
    const w = cpuWindow([job('a', 1), job('a', 2)], ['a', 'b'], 0, 10);
    assert.equal(w.complete, false);
    assert.deepEqual(w.served, { a: 4, b: 0 });
    const empty = cpuWindow([], ['a'], 0, 1);
    assert.equal(empty.complete, false);
    assert.ok(Number.isNaN(empty.from));
  });

  test("Jain's index: 1 when equal, 1/n when one tenant gets everything, (Σx)²/(n·Σx²) between", () => {
    assert.equal(jainIndex([5, 5, 5]), 1);
    assert.equal(jainIndex([9, 0, 0]), 1 / 3);
    assert.equal(jainIndex([1, 2, 3]), 36 / 42);
    assert.ok(Number.isNaN(jainIndex([])));
  });

  test('utilisation clips busy intervals to the span and divides by slots × span', () => {
    const busy = [
      { start: 0, end: 10 },
      { start: 2, end: 7 },
      { start: 8, end: 14 },
    ];
    // Span [0, 10], 2 slots: 10 + 5 + 2 = 17 busy of 20.
    assert.equal(utilisation(busy, 0, 10, 2), 17 / 20);
    assert.equal(utilisation([{ start: -5, end: 20 }], 0, 10, 1), 1);
    assert.ok(Number.isNaN(utilisation(busy, 5, 5, 2)));
    assert.equal(mean([1, 2, 6]), 3);
  });
});
