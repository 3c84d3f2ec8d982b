// The meter over the real stores: an event the store cannot take never blocks the rest; prediction usage
// is dated at the start of its hour (docs/metering.md, GET /v1/usage). Before the meter
// dropped invalid events, a NaN quantity failed every retry of its batch on SQLite (NOT NULL), keeping the
// predictions summed with it out of the store, and on PostgreSQL it was stored and made the day's sum NaN.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRandom, ManualClock } from '../../../src/core/clock.ts';
import type { UsageEvent } from '../../../src/core/metering.ts';
import { BufferedMeter } from '../../../src/services/metering/meter.ts';
import { describeStores, newTenant, scopeOf, T0 } from '../store/fixtures.ts';

describeStores('meter over the real stores', ({ store }) => {
  test('an invalid recorded event is dropped and logged; predictions and valid events are stored', async () => {
    await store().tenants.create(newTenant('acme'), 'operator', T0);
    const warned: Record<string, unknown>[] = [];
    const m = new BufferedMeter({
      repo: store().usage,
      clock: new ManualClock('2026-03-01T10:15:00Z'),
      random: cryptoRandom,
      flushMs: 0,
      warn: (o) => warned.push(o),
    });
    const storage = (id: string, quantity: number): UsageEvent => ({
      id,
      tenantId: 'acme',
      kind: 'storage_byte_hours',
      quantity,
      at: '2026-03-01T10:00:00Z',
      subject: 'datasets',
      origin: 'own',
    });
    m.record([storage('s-nan', Number.NaN), storage('s-inf', Number.POSITIVE_INFINITY), storage('s-ok', 7)]);
    m.prediction('acme', 'churn', 3, 0.25);
    assert.equal(await m.flush(), 4, 'the valid event and the prediction’s three sums');
    assert.equal(m.pending, 0, 'nothing left to retry');
    assert.deepEqual(
      warned.map((w) => w.id),
      ['s-nan', 's-inf'],
    );
    const sums = await store().usage.sumsAll({
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
      granularity: 'day',
    });
    assert.deepEqual(Object.fromEntries(sums.map((s) => [s.kind, s.quantity])), {
      inference_cpu_seconds: 0.25,
      predict_requests: 1,
      predicted_rows: 3,
      storage_byte_hours: 7,
    });
  });
  test('prediction usage is dated at the start of its hour: bounds inside the hour cut by that date', async () => {
    await store().tenants.create(newTenant('hourly'), 'operator', T0);
    const m = new BufferedMeter({
      repo: store().usage,
      clock: new ManualClock('2026-04-01T10:45:00Z'),
      random: cryptoRandom,
      flushMs: 0,
    });
    m.prediction('hourly', 'churn', 4, 0.1);
    assert.equal(await m.flush(), 3);
    const rows = async (from: string, to: string) =>
      (await store().usage.sums(scopeOf('hourly'), { from, to, granularity: 'hour' })).find(
        (s) => s.kind === 'predicted_rows',
      )?.quantity ?? 0;
    assert.equal(await rows('2026-04-01T10:30:00Z', '2026-04-01T11:00:00Z'), 0, 'made at 10:45, dated 10:00');
    assert.equal(await rows('2026-04-01T10:00:00Z', '2026-04-01T10:30:00Z'), 4);
    assert.equal(await rows('2026-04-01T10:00:00Z', '2026-04-01T11:00:00Z'), 4);
  });
});
