import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addTotals,
  apportion,
  type Budget,
  budgetState,
  costOf,
  DEFAULT_PRICES,
  HOURS_PER_MONTH,
  monthOf,
  monthRange,
  nextPeriod,
  type PriceTable,
  periodStart,
  thresholdsToAlert,
  type UsageEvent,
  usageEventProblem,
} from '../../../src/core/metering.ts';

describe('core/metering: periods', () => {
  test('periodStart: the hour, day and month holding an instant (UTC)', () => {
    const at = '2026-03-15T13:45:12.345Z';
    assert.equal(periodStart(at, 'hour'), '2026-03-15T13:00:00.000Z');
    assert.equal(periodStart(at, 'day'), '2026-03-15T00:00:00.000Z');
    assert.equal(periodStart(at, 'month'), '2026-03-01T00:00:00.000Z');
    assert.equal(periodStart(new Date(at), 'hour'), '2026-03-15T13:00:00.000Z', 'a Date as well');
    // an offset is read as the instant it names
    assert.equal(periodStart('2026-03-15T01:30:00+02:00', 'day'), '2026-03-14T00:00:00.000Z');
    // the first and last millisecond of a period belong to it
    assert.equal(periodStart('2026-03-01T00:00:00.000Z', 'month'), '2026-03-01T00:00:00.000Z');
    assert.equal(periodStart('2026-03-31T23:59:59.999Z', 'month'), '2026-03-01T00:00:00.000Z');
  });

  test('nextPeriod crosses day, month and year ends, and leap days', () => {
    assert.equal(nextPeriod('2026-12-31T23:00:00.000Z', 'hour'), '2027-01-01T00:00:00.000Z');
    assert.equal(nextPeriod('2026-12-31T00:00:00.000Z', 'day'), '2027-01-01T00:00:00.000Z');
    assert.equal(nextPeriod('2026-12-01T00:00:00.000Z', 'month'), '2027-01-01T00:00:00.000Z');
    assert.equal(nextPeriod('2026-01-01T00:00:00.000Z', 'month'), '2026-02-01T00:00:00.000Z');
    assert.equal(nextPeriod('2028-02-28T00:00:00.000Z', 'day'), '2028-02-29T00:00:00.000Z');
    assert.equal(nextPeriod('2028-02-01T00:00:00.000Z', 'month'), '2028-03-01T00:00:00.000Z');
    assert.equal(nextPeriod('2026-02-28T00:00:00.000Z', 'day'), '2026-03-01T00:00:00.000Z');
  });

  test('monthOf and monthRange; monthRange refuses what is not YYYY-MM', () => {
    assert.equal(monthOf('2026-12-31T23:59:59.999Z'), '2026-12');
    assert.equal(monthOf(new Date('2027-01-01T00:00:00.000Z')), '2027-01');
    assert.deepEqual(monthRange('2026-12'), {
      from: '2026-12-01T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
    });
    assert.deepEqual(monthRange('2028-02'), {
      from: '2028-02-01T00:00:00.000Z',
      to: '2028-03-01T00:00:00.000Z',
    });
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-01', '2026-01-01', '', '2026-01 ', 'x'])
      assert.equal(monthRange(bad), null, JSON.stringify(bad));
  });
});

describe('core/metering: cost', () => {
  const prices: PriceTable = {
    currency: 'EUR',
    cpuSecond: 0.5,
    per1000Predictions: 2,
    gbMonth: 10,
    monitoringRun: 0.25,
  };

  test('costOf prices each line and totals them', () => {
    const c = costOf(
      {
        training_cpu_seconds: 4,
        inference_cpu_seconds: 2,
        predicted_rows: 1500,
        storage_byte_hours: 2e9 * HOURS_PER_MONTH,
        monitoring_runs: 8,
        // not priced by themselves
        training_wall_seconds: 100,
        training_rows: 1e6,
        predict_requests: 99,
      },
      prices,
    );
    assert.deepEqual(c, { training: 2, inference: 1, predictions: 3, storage: 20, monitoring: 2, total: 28 });
  });

  test('no usage costs nothing; absent kinds are 0', () => {
    assert.deepEqual(costOf({}, DEFAULT_PRICES), {
      training: 0,
      inference: 0,
      predictions: 0,
      storage: 0,
      monitoring: 0,
      total: 0,
    });
    assert.equal(costOf({ predicted_rows: 1000 }, DEFAULT_PRICES).total, DEFAULT_PRICES.per1000Predictions);
  });

  test('addTotals adds in place and skips zero and absent kinds', () => {
    const a = { predicted_rows: 1 };
    const r = addTotals(a, { predicted_rows: 2, monitoring_runs: 0, training_rows: 5 });
    assert.equal(r, a);
    assert.deepEqual(a, { predicted_rows: 3, training_rows: 5 });
  });
});

describe('core/metering: apportion', () => {
  const sum = (xs: { quantity: number }[]) => xs.reduce((s, x) => s + x.quantity, 0);

  test('splits by rows; the shares sum to the quantity', () => {
    const out = apportion(90, [
      { tenantId: 'a', rows: 100 },
      { tenantId: 'b', rows: 200 },
      { tenantId: 'c', rows: 0 },
      { tenantId: 'd', rows: 300 },
    ]);
    assert.deepEqual(
      out.map((o) => o.tenantId),
      ['a', 'b', 'c', 'd'],
    );
    assert.ok(Math.abs(out[0].quantity - 15) < 1e-9);
    assert.ok(Math.abs(out[1].quantity - 30) < 1e-9);
    assert.equal(out[2].quantity, 0);
    assert.ok(Math.abs(out[3].quantity - 45) < 1e-9);
    assert.equal(sum(out), 90);
  });

  test('the sum is exact for awkward quantities, in either order (deterministic random cases)', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    let cases = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(rnd() * 7);
      const contributors = Array.from({ length: n }, (_, j) => ({
        tenantId: `t${j}`,
        rows: 1 + Math.floor(rnd() * 10_000),
      }));
      const quantity = rnd() * 10 ** Math.floor(rnd() * 16 - 4);
      const out = apportion(quantity, contributors);
      cases++;
      assert.equal(sum(out), quantity, `forward ${quantity} ${JSON.stringify(contributors)}`);
      assert.equal(sum([...out].reverse()), quantity, `backward ${quantity} ${JSON.stringify(contributors)}`);
      for (const o of out) assert.ok(o.quantity >= 0);
    }
    assert.equal(cases, 20_000);
  });

  test('one contributor takes all; no rows (or none) splits nothing; zero quantity gives zeros', () => {
    assert.deepEqual(apportion(7.3, [{ tenantId: 'a', rows: 5 }]), [{ tenantId: 'a', quantity: 7.3 }]);
    assert.deepEqual(apportion(7.3, []), []);
    assert.deepEqual(apportion(7.3, [{ tenantId: 'a', rows: 0 }]), []);
    assert.deepEqual(apportion(7.3, [{ tenantId: 'a', rows: -4 }]), [], 'negative rows count as none');
    assert.deepEqual(
      apportion(0, [
        { tenantId: 'a', rows: 1 },
        { tenantId: 'b', rows: 2 },
      ]),
      [
        { tenantId: 'a', quantity: 0 },
        { tenantId: 'b', quantity: 0 },
      ],
    );
  });
});

describe('core/metering: budgets', () => {
  const budget = (over: Partial<Budget> = {}): Budget => ({
    monthly: 100,
    alertAt: [0.5, 0.8, 1],
    hardLimit: true,
    blockPredictions: false,
    overrideMonth: null,
    ...over,
  });

  test('below, at and above the thresholds', () => {
    assert.deepEqual(budgetState(budget(), 49.99, '2026-01'), {
      month: '2026-01',
      spent: 49.99,
      limit: 100,
      ratio: 0.4999,
      reached: [],
      blocks: { training: false, predictions: false },
    });
    assert.deepEqual(budgetState(budget(), 50, '2026-01').reached, [0.5]);
    assert.deepEqual(budgetState(budget(), 99.99, '2026-01').reached, [0.5, 0.8]);
    assert.deepEqual(budgetState(budget(), 99.99, '2026-01').blocks, { training: false, predictions: false });
    const at = budgetState(budget(), 100, '2026-01');
    assert.deepEqual(at.reached, [0.5, 0.8, 1]);
    assert.deepEqual(at.blocks, { training: true, predictions: false }, 'predictions only when chosen');
    assert.deepEqual(budgetState(budget({ blockPredictions: true }), 250, '2026-01').blocks, {
      training: true,
      predictions: true,
    });
    assert.equal(budgetState(budget(), 250, '2026-01').ratio, 2.5);
  });

  test('without a hard limit nothing is blocked, whatever the spend', () => {
    assert.deepEqual(
      budgetState(budget({ hardLimit: false, blockPredictions: true }), 1e9, '2026-01').blocks,
      {
        training: false,
        predictions: false,
      },
    );
  });

  test("the operator's override lifts the hard limit for its month only", () => {
    const b = budget({ overrideMonth: '2026-01', blockPredictions: true });
    assert.deepEqual(budgetState(b, 500, '2026-01').blocks, { training: false, predictions: false });
    assert.deepEqual(budgetState(b, 500, '2026-01').reached, [0.5, 0.8, 1], 'alerts are still due');
    assert.deepEqual(budgetState(b, 500, '2026-02').blocks, { training: true, predictions: true });
  });

  test('a zero budget: any spend is over (ratio Infinity); no spend has ratio 0', () => {
    const b = budget({ monthly: 0 });
    const spent = budgetState(b, 0.01, '2026-01');
    assert.equal(spent.ratio, Number.POSITIVE_INFINITY);
    assert.deepEqual(spent.reached, [0.5, 0.8, 1]);
    assert.equal(spent.blocks.training, true);
    const none = budgetState(b, 0, '2026-01');
    assert.equal(none.ratio, 0);
    assert.deepEqual(none.reached, []);
    // spent >= limit holds at 0 >= 0: a zero hard budget allows nothing, not even the first job
    assert.equal(none.blocks.training, true);
  });

  test('thresholdsToAlert: reached and not yet alerted, each once', () => {
    const s = budgetState(budget(), 85, '2026-01');
    assert.deepEqual(thresholdsToAlert(s, []), [0.5, 0.8]);
    assert.deepEqual(thresholdsToAlert(s, [0.5]), [0.8]);
    assert.deepEqual(thresholdsToAlert(s, [0.5, 0.8]), []);
    assert.deepEqual(thresholdsToAlert(budgetState(budget(), 10, '2026-01'), []), []);
    assert.deepEqual(
      thresholdsToAlert(budgetState(budget({ alertAt: [1.5, 2] }), 160, '2026-01'), [2]),
      [1.5],
    );
  });
});

describe('core/metering: usage events', () => {
  const ok: UsageEvent = {
    id: 'job:j1:cpu',
    tenantId: 'acme',
    kind: 'training_cpu_seconds',
    quantity: 1.5,
    at: '2026-03-01T10:00:00.000Z',
    subject: 'churn',
    origin: 'shared',
  };

  test('usageEventProblem: a storable event has none', () => {
    assert.equal(usageEventProblem(ok), null);
    assert.equal(usageEventProblem({ ...ok, at: '2026-03-01T12:00:00+02:00', subject: null }), null);
    assert.equal(usageEventProblem({ ...ok, quantity: Number.MIN_VALUE }), null);
  });

  test('usageEventProblem names what is wrong', () => {
    const cases: [Partial<UsageEvent>, RegExp][] = [
      [{ id: '' }, /^id/],
      [{ tenantId: '' }, /^tenantId/],
      [{ kind: 'gpu_seconds' as UsageEvent['kind'] }, /^kind/],
      [{ origin: 'other' as UsageEvent['origin'] }, /^origin/],
      [{ quantity: Number.NaN }, /^quantity/],
      [{ quantity: Number.POSITIVE_INFINITY }, /^quantity/],
      [{ quantity: -1 }, /^quantity/],
      [{ quantity: 0 }, /^quantity/],
      [{ quantity: '3' as unknown as number }, /^quantity/],
      [{ at: 'not a date' }, /^at/],
      [{ at: '' }, /^at/],
    ];
    for (const [over, re] of cases)
      assert.match(usageEventProblem({ ...ok, ...over }) ?? '', re, JSON.stringify(over));
  });
});
