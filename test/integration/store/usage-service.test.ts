// UsageService over real stores: reports per tenant and period (own and shared usage, cost, totals, empty
// periods left out), the operator's all-tenant report, the month so far; and the parsing of GET /v1/usage's
// query (instants, defaults, order, the longest span per granularity), each bad input named.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { AppError } from '../../../src/core/errors.ts';
import type { PriceTable, UsageEvent, UsageKind, UsageOrigin } from '../../../src/core/metering.ts';
import { SHARED_NAMESPACE } from '../../../src/core/scope.ts';
import { parseInstant, parseUsageQuery, UsageService } from '../../../src/services/metering/usage.ts';
import { describeStores, newTenant, scopeOf, T0 } from './fixtures.ts';

const PRICES: PriceTable = {
  currency: 'EUR',
  cpuSecond: 0.5,
  per1000Predictions: 2,
  gbMonth: 10,
  monitoringRun: 0.25,
};

function ev(
  id: string,
  tenantId: string,
  at: string,
  quantity: number,
  kind: UsageKind = 'predicted_rows',
  origin: UsageOrigin = 'own',
): UsageEvent {
  return { id, tenantId, kind, quantity, at, subject: null, origin };
}

/** The fields a validation error names, or fails. */
function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, 'validation_failed');
    return (e.errors ?? []).map((x) => x.field);
  }
  assert.fail('expected a validation error');
}

describe('metering: parseUsageQuery', () => {
  const now = new Date('2026-03-15T10:20:00.000Z');

  test('from, to and granularity as given; offsets and dates read as the instants they name', () => {
    assert.deepEqual(
      parseUsageQuery({ from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', granularity: 'hour' }, now),
      {
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-03-02T00:00:00.000Z',
        granularity: 'hour',
      },
    );
    assert.deepEqual(
      parseUsageQuery({ from: '2026-03-01T02:00:00+02:00', to: '2026-03-05', granularity: 'day' }, now),
      {
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-03-05T00:00:00.000Z',
        granularity: 'day',
      },
    );
  });

  test("defaults: the clock's month by day; one bound given, the month holding it", () => {
    assert.deepEqual(parseUsageQuery({}, now), {
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      granularity: 'day',
    });
    assert.deepEqual(parseUsageQuery({ from: '2026-12-10', granularity: 'month' }, now), {
      from: '2026-12-10T00:00:00.000Z',
      to: '2027-01-01T00:00:00.000Z',
      granularity: 'month',
    });
    assert.deepEqual(parseUsageQuery({ to: '2026-01-01T00:00:00Z' }, now), {
      from: '2025-12-01T00:00:00.000Z',
      to: '2026-01-01T00:00:00.000Z',
      granularity: 'day',
    });
    assert.deepEqual(
      parseUsageQuery({ from: '', to: '' }, now).from,
      '2026-03-01T00:00:00.000Z',
      'empty is absent',
    );
  });

  test('bad instants and granularities are named, all at once', () => {
    assert.deepEqual(
      fieldsOf(() => parseUsageQuery({ from: 'yesterday', granularity: 'week' }, now)),
      ['granularity', 'from'],
    );
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-03-01T10:00:00',
      '2026-03-01 10:00:00Z',
      '1700000000',
      '2026-3-1',
    ])
      assert.deepEqual(
        fieldsOf(() => parseUsageQuery({ to: bad }, now)),
        ['to'],
        bad,
      );
  });

  test('to must be after from', () => {
    assert.deepEqual(
      fieldsOf(() => parseUsageQuery({ from: '2026-03-02', to: '2026-03-02' }, now)),
      ['to'],
    );
    assert.deepEqual(
      fieldsOf(() => parseUsageQuery({ from: '2026-03-02', to: '2026-03-01' }, now)),
      ['to'],
    );
  });

  test('the longest span: 31 days hourly, 366 days daily, 3653 days monthly', () => {
    const q = (from: string, to: string, granularity: string) =>
      parseUsageQuery({ from, to, granularity }, now);
    assert.equal(q('2026-01-01', '2026-02-01', 'hour').granularity, 'hour');
    assert.deepEqual(
      fieldsOf(() => q('2026-01-01', '2026-02-01T00:00:00.001Z', 'hour')),
      ['to'],
    );
    assert.equal(q('2028-01-01', '2029-01-01', 'day').granularity, 'day', 'a leap year is 366 days');
    assert.deepEqual(
      fieldsOf(() => q('2026-01-01', '2027-01-02T00:00:00.001Z', 'day')),
      ['to'],
    );
    assert.equal(q('2026-01-01', '2036-01-01', 'month').granularity, 'month');
    assert.deepEqual(
      fieldsOf(() => q('2026-01-01', '2036-01-03', 'month')),
      ['to'],
    );
  });

  test('the range lies in [1970-01-01, 9999-01-01): every bound the answer shows is a YYYY instant', () => {
    const q = (raw: Record<string, string>) => parseUsageQuery(raw, now);
    assert.equal(q({ from: '1970-01-01', to: '1970-02-01' }).from, '1970-01-01T00:00:00.000Z');
    assert.equal(q({ from: '9998-12-01' }).to, '9999-01-01T00:00:00.000Z');
    assert.deepEqual(
      fieldsOf(() => q({ from: '1969-12-31T23:59:59Z', to: '1970-01-02' })),
      ['from'],
    );
    assert.deepEqual(
      fieldsOf(() => q({ to: '0000-01-01' })),
      ['to'],
      'the defaulted from names to',
    );
    assert.deepEqual(
      fieldsOf(() => q({ from: '9999-12-31' })),
      ['from'],
      'the defaulted to names from',
    );
    assert.deepEqual(
      fieldsOf(() => q({ from: '9998-12-31', to: '9999-01-01T00:00:00.001Z' })),
      ['to'],
    );
  });

  test('parseInstant: dates and zoned date-times only', () => {
    assert.equal(parseInstant('2026-01-01'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(parseInstant('2026-01-01T05:00Z'), Date.parse('2026-01-01T05:00:00Z'));
    assert.equal(parseInstant('2026-01-01T05:00:00.123456-01:30'), Date.parse('2026-01-01T06:30:00.123Z'));
    assert.equal(parseInstant('2028-02-29'), Date.parse('2028-02-29T00:00:00Z'));
    for (const bad of ['2026-02-29', '2026-01-01T25:00:00Z', '2026-01-01T05:00:00+0200', 'now', ''])
      assert.equal(parseInstant(bad), null, bad);
  });
});

describeStores('metering: UsageService', ({ store }) => {
  const clock = new ManualClock('2026-02-10T12:00:00.000Z');
  const service = () =>
    new UsageService({ store: store(), prices: PRICES, clock, sharedCost: 'contributors' });

  before(async () => {
    const s = store();
    for (const id of ['sv-a', 'sv-b', 'sv-idle', SHARED_NAMESPACE])
      await s.tenants.create(newTenant(id), 'operator', T0);
    const n = await s.usage.record([
      ev('sv-1', 'sv-a', '2026-01-31T23:00:00.000Z', 1000),
      ev('sv-2', 'sv-a', '2026-02-01T08:00:00.000Z', 500),
      ev('sv-3', 'sv-a', '2026-02-01T09:00:00.000Z', 4, 'training_cpu_seconds'),
      ev('sv-4', 'sv-a', '2026-02-01T09:30:00.000Z', 2, 'training_cpu_seconds', 'shared'),
      ev('sv-5', 'sv-a', '2026-02-03T00:00:00.000Z', 3, 'monitoring_runs'),
      ev('sv-6', 'sv-b', '2026-02-02T00:00:00.000Z', 2000),
      ev('sv-7', SHARED_NAMESPACE, '2026-02-01T09:00:00.000Z', 6, 'training_cpu_seconds'),
      ev('sv-8', 'sv-a', '2026-03-01T00:00:00.000Z', 99, 'training_cpu_seconds'),
    ]);
    assert.equal(n, 8, 'the seed stored every event');
  });

  test("a tenant's report: periods with usage only, shared shares shown apart, cost and totals", async () => {
    const r = await service().report(scopeOf('sv-a'), {
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      granularity: 'day',
    });
    assert.deepEqual(
      { ...r, tenants: undefined },
      {
        from: '2026-02-01T00:00:00.000Z',
        to: '2026-03-01T00:00:00.000Z',
        granularity: 'day',
        currency: 'EUR',
        prices: PRICES,
        sharedCostPolicy: 'contributors',
        tenants: undefined,
      },
    );
    assert.deepEqual(r.tenants, [
      {
        tenantId: 'sv-a',
        periods: [
          {
            start: '2026-02-01T00:00:00.000Z',
            usage: { predicted_rows: 500, training_cpu_seconds: 6 },
            sharedUsage: { training_cpu_seconds: 2 },
            cost: { training: 3, inference: 0, predictions: 1, storage: 0, monitoring: 0, total: 4 },
          },
          {
            start: '2026-02-03T00:00:00.000Z',
            usage: { monitoring_runs: 3 },
            sharedUsage: {},
            cost: { training: 0, inference: 0, predictions: 0, storage: 0, monitoring: 0.75, total: 0.75 },
          },
        ],
        total: {
          usage: { predicted_rows: 500, training_cpu_seconds: 6, monitoring_runs: 3 },
          sharedUsage: { training_cpu_seconds: 2 },
          cost: { training: 3, inference: 0, predictions: 1, storage: 0, monitoring: 0.75, total: 4.75 },
        },
      },
    ]);
  });

  test('a tenant without usage in the range gets its entry, empty', async () => {
    const r = await service().report(scopeOf('sv-idle'), {
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      granularity: 'month',
    });
    assert.deepEqual(r.tenants, [
      {
        tenantId: 'sv-idle',
        periods: [],
        total: {
          usage: {},
          sharedUsage: {},
          cost: { training: 0, inference: 0, predictions: 0, storage: 0, monitoring: 0, total: 0 },
        },
      },
    ]);
  });

  test("the operator's report holds every tenant with usage, the shared namespace included, by id", async () => {
    const r = await service().report('all', {
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      granularity: 'month',
    });
    assert.deepEqual(
      r.tenants.map((t) => [t.tenantId, t.periods.map((p) => p.start), t.total.cost.total]),
      [
        [SHARED_NAMESPACE, ['2026-02-01T00:00:00.000Z'], 3],
        ['sv-a', ['2026-02-01T00:00:00.000Z'], 4.75],
        ['sv-b', ['2026-02-01T00:00:00.000Z'], 4],
      ],
    );
  });

  test("one tenant's report never holds another's usage", async () => {
    const r = await service().report(scopeOf('sv-b'), {
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
      granularity: 'month',
    });
    assert.deepEqual(
      r.tenants.map((t) => [t.tenantId, t.total.usage]),
      [['sv-b', { predicted_rows: 2000 }]],
    );
  });

  test("monthToDate: the clock's month by default, another month when named, both origins", async () => {
    assert.deepEqual(await service().monthToDate(scopeOf('sv-a')), {
      month: '2026-02',
      usage: { predicted_rows: 500, training_cpu_seconds: 6, monitoring_runs: 3 },
      // Without its share of shared training (2 of the 6 CPU-seconds): what its quotas count.
      ownUsage: { predicted_rows: 500, training_cpu_seconds: 4, monitoring_runs: 3 },
      cost: { training: 3, inference: 0, predictions: 1, storage: 0, monitoring: 0.75, total: 4.75 },
    });
    assert.deepEqual((await service().monthToDate(scopeOf('sv-a'), '2026-01')).usage, {
      predicted_rows: 1000,
    });
    assert.deepEqual((await service().monthToDate(scopeOf('sv-idle'))).cost.total, 0);
    clock.set('2026-03-05T00:00:00.000Z');
    assert.deepEqual(
      (await service().monthToDate(scopeOf('sv-a'))).usage,
      { training_cpu_seconds: 99 },
      'a new month starts at zero',
    );
    clock.set('2026-02-10T12:00:00.000Z');
  });

  test('monthToDate refuses a month that is not YYYY-MM, naming month', async () => {
    for (const bad of ['2026-13', '2026-2', 'february']) {
      await assert.rejects(service().monthToDate(scopeOf('sv-a'), bad), (e: unknown) => {
        assert.ok(e instanceof AppError);
        assert.deepEqual(
          e.errors?.map((x) => x.field),
          ['month'],
        );
        return true;
      });
    }
  });

  test("query() parses against the service's clock", () => {
    assert.deepEqual(service().query({ granularity: 'hour', from: '2026-02-10' }), {
      from: '2026-02-10T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      granularity: 'hour',
    });
    assert.deepEqual(service().query({}).from, '2026-02-01T00:00:00.000Z');
  });
});
