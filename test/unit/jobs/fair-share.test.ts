import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TIER_WEIGHTS } from '../../../src/core/tiers.ts';
import {
  CPU_UNIT_SECONDS,
  decayUsage,
  fairShareOrder,
  fairShareScore,
  type TenantLoad,
} from '../../../src/jobs/fair-share.ts';

const load = (tenantId: string, over: Partial<TenantLoad> = {}): TenantLoad => ({
  tenantId,
  running: 0,
  decayedCpuSeconds: 0,
  weight: 1,
  cap: 10,
  oldestQueuedAt: 0,
  ...over,
});
const FREE = { running: 0, cap: 100 };

describe('jobs/fair-share: order', () => {
  test('the tenant using less goes first: A with 3 running, B with none → B', () => {
    assert.deepEqual(fairShareOrder([load('a', { running: 3 }), load('b')], FREE), ['b', 'a']);
  });

  test('score = (running + decayed CPU / CPU unit) / weight', () => {
    assert.equal(fairShareScore({ running: 2, decayedCpuSeconds: CPU_UNIT_SECONDS, weight: 2 }), 1.5);
    assert.equal(fairShareScore({ running: 0, decayedCpuSeconds: 0, weight: 4 }), 0);
    assert.equal(fairShareScore({ running: 1, decayedCpuSeconds: 0, weight: 0 }), 1, 'weight 0 counts as 1');
    assert.equal(
      fairShareScore({ running: 1, decayedCpuSeconds: -50, weight: 1 }),
      1,
      'usage never negative',
    );
  });

  test('recent CPU weighs like running jobs: one CPU unit equals one running job', () => {
    const order = fairShareOrder(
      [load('busy-before', { decayedCpuSeconds: 2 * CPU_UNIT_SECONDS }), load('one-running', { running: 1 })],
      FREE,
    );
    assert.deepEqual(order, ['one-running', 'busy-before']);
  });

  test('weights 2:1: the heavier tenant is served until it runs twice as many', () => {
    const w = (running: [number, number]) =>
      fairShareOrder(
        [
          load('std', { running: running[0], weight: TIER_WEIGHTS.standard, oldestQueuedAt: 5 }),
          load('free', { running: running[1], weight: TIER_WEIGHTS.free, oldestQueuedAt: 1 }),
        ],
        FREE,
      )[0];
    assert.equal(w([1, 1]), 'std', '0.5 < 1');
    assert.equal(w([2, 1]), 'free', 'tie at 1: the older queued job (free) goes first');
    assert.equal(w([3, 1]), 'free', '1.5 > 1');
    // Simulate filling 9 slots one by one: the split converges to 2:1.
    const running = { std: 0, free: 0 };
    for (let i = 0; i < 9; i++) {
      const next = fairShareOrder(
        [
          load('std', { running: running.std, weight: 2, oldestQueuedAt: 0 }),
          load('free', { running: running.free, weight: 1, oldestQueuedAt: 0 }),
        ],
        FREE,
      )[0] as 'std' | 'free';
      running[next]++;
    }
    assert.deepEqual(running, { std: 6, free: 3 });
  });

  test('ties go to the oldest queued job, then to the tenant id', () => {
    assert.deepEqual(
      fairShareOrder([load('a', { oldestQueuedAt: 20 }), load('b', { oldestQueuedAt: 10 }), load('c')], FREE),
      ['c', 'b', 'a'],
    );
    assert.deepEqual(fairShareOrder([load('z'), load('m'), load('q')], FREE), ['m', 'q', 'z']);
  });

  test('a tenant at its cap is skipped; nothing at all when the cluster is full', () => {
    assert.deepEqual(fairShareOrder([load('a', { running: 1, cap: 1 }), load('b', { running: 5 })], FREE), [
      'b',
    ]);
    assert.deepEqual(fairShareOrder([load('a'), load('b')], { running: 4, cap: 4 }), []);
    assert.deepEqual(fairShareOrder([load('a'), load('b')], { running: 5, cap: 4 }), []);
    assert.deepEqual(fairShareOrder([], FREE), []);
  });

  test('work-conserving: a lone tenant with work takes every free slot up to its own cap', () => {
    const cluster = { running: 0, cap: 4 };
    let running = 0;
    // a huge usage and a low weight never hold it back when nobody else waits
    while (fairShareOrder([load('solo', { running, decayedCpuSeconds: 1e6, cap: 3 })], cluster).length > 0) {
      running++;
      cluster.running++;
    }
    assert.equal(running, 3, 'stops at its cap of 3');
    assert.deepEqual(fairShareOrder([load('other')], cluster), ['other'], 'the 4th slot is still free');
    cluster.running++;
    assert.deepEqual(fairShareOrder([load('other')], cluster), []);
  });

  test('the input is not modified', () => {
    const input = [load('b', { running: 2 }), load('a')];
    const copy = structuredClone(input);
    fairShareOrder(input, FREE);
    assert.deepEqual(input, copy);
  });
});

describe('jobs/fair-share: decay', () => {
  const H = 600;
  test('halves every half-life', () => {
    assert.equal(decayUsage(100, 0, H * 1000, H), 50);
    assert.equal(decayUsage(100, 0, 2 * H * 1000, H), 25);
    assert.ok(Math.abs(decayUsage(100, 0, (H * 1000) / 2, H) - 100 / Math.SQRT2) < 1e-9);
    assert.ok(decayUsage(100, 0, 100 * H * 1000, H) < 1e-20);
  });

  test('never grows when time runs backwards; zero and negative values are zero', () => {
    assert.equal(decayUsage(100, 5000, 1000, H), 100);
    assert.equal(decayUsage(100, 1000, 1000, H), 100);
    assert.equal(decayUsage(0, 0, 1000, H), 0);
    assert.equal(decayUsage(-3, 0, 1000, H), 0);
  });

  test('a half-life of zero keeps no memory', () => {
    assert.equal(decayUsage(100, 0, 1, 0), 0);
  });

  test('decayed usage lets a tenant that stopped using CPU win again', () => {
    const at = (minutes: number) => minutes * 60_000;
    const heavy = (now: number) => load('heavy', { decayedCpuSeconds: decayUsage(300, at(0), now, H) });
    const light = load('light', { running: 1 });
    assert.deepEqual(fairShareOrder([heavy(at(0)), light], FREE)[0], 'light', '300 s = 10 jobs now');
    // 300 · 2^(-t/600 s) < 30 once t > 600·log2(10) s ≈ 33.2 min
    assert.deepEqual(fairShareOrder([heavy(at(33)), light], FREE)[0], 'light');
    assert.deepEqual(fairShareOrder([heavy(at(34)), light], FREE)[0], 'heavy');
  });
});

/**
 * A small discrete-event model of the scheduler in use: `slots` workers, every tenant backlogged with jobs
 * of `jobSeconds` that each burn as many CPU-seconds, usage charged at each job's end. Returns the
 * CPU-seconds each tenant was served after a warm-up.
 */
function simulate(weights: Record<string, number>, slots: number, jobSeconds: number, halfLife: number) {
  const ids = Object.keys(weights);
  const usage = new Map(ids.map((id) => [id, { value: 0, at: 0 }]));
  const running = new Map(ids.map((id) => [id, 0]));
  const served = new Map(ids.map((id) => [id, 0]));
  const ends: { at: number; tenant: string }[] = [];
  const horizon = 200 * jobSeconds;
  const warmUp = 20 * jobSeconds;
  let now = 0;
  const fill = () => {
    while (ends.length < slots) {
      const loads = ids.map((id) => {
        const u = usage.get(id) ?? { value: 0, at: 0 };
        return load(id, {
          running: running.get(id) ?? 0,
          weight: weights[id],
          decayedCpuSeconds: decayUsage(u.value, u.at * 1000, now * 1000, halfLife),
        });
      });
      const next = fairShareOrder(loads, { running: ends.length, cap: slots })[0];
      if (next === undefined) return;
      running.set(next, (running.get(next) ?? 0) + 1);
      ends.push({ at: now + jobSeconds, tenant: next });
      ends.sort((a, b) => a.at - b.at);
    }
  };
  fill();
  while (now < horizon) {
    const done = ends.shift();
    if (!done) break;
    now = done.at;
    const u = usage.get(done.tenant) ?? { value: 0, at: 0 };
    usage.set(done.tenant, {
      value: decayUsage(u.value, u.at * 1000, now * 1000, halfLife) + jobSeconds,
      at: now,
    });
    running.set(done.tenant, (running.get(done.tenant) ?? 0) - 1);
    if (now > warmUp) served.set(done.tenant, (served.get(done.tenant) ?? 0) + jobSeconds);
    fill();
  }
  return served;
}

describe('jobs/fair-share: shares over time (model of two busy slots)', () => {
  test('weights 2:1 serve CPU-seconds 2:1 within 15%', () => {
    for (const halfLife of [60, 600]) {
      const served = simulate({ std: 2, free: 1 }, 2, 20, halfLife);
      const ratio = (served.get('std') ?? 0) / (served.get('free') ?? 1);
      assert.ok(Math.abs(ratio - 2) / 2 < 0.15, `half-life ${halfLife}: ratio ${ratio.toFixed(3)}`);
    }
  });

  test("equal weights: Jain's fairness index ≥ 0.95 with three tenants on two slots", () => {
    const served = [...simulate({ a: 1, b: 1, c: 1 }, 2, 20, 600).values()];
    const sum = served.reduce((x, y) => x + y, 0);
    const jain = (sum * sum) / (served.length * served.reduce((x, y) => x + y * y, 0));
    assert.ok(jain >= 0.95, `Jain ${jain.toFixed(4)}: ${served.join(', ')}`);
  });
});
