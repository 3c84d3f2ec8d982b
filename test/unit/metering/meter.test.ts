// The meter: in-memory sums per tenant, hour, kind and subject; flushed as events with unique ids; a
// failed write is retried with the same ids, so a write that landed but errored counts once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRandom, ManualClock } from '../../../src/core/clock.ts';
import type { UsageEvent } from '../../../src/core/metering.ts';
import { BufferedMeter, createMeter, NoopMeter } from '../../../src/services/metering/meter.ts';

/** A repository that keeps events by id (like the store) and can be told to fail. */
function fakeRepo() {
  const stored = new Map<string, UsageEvent>();
  const calls: UsageEvent[][] = [];
  let mode: 'ok' | 'fail' | 'land-then-fail' = 'ok';
  return {
    stored,
    calls,
    setMode(m: typeof mode) {
      mode = m;
    },
    async record(
      events: UsageEvent[],
      opts?: { onStored?(e: Pick<UsageEvent, 'tenantId' | 'kind' | 'quantity'>): void },
    ): Promise<number> {
      calls.push(events);
      if (mode === 'fail') throw new Error('database down');
      const added: UsageEvent[] = [];
      for (const e of events)
        if (!stored.has(e.id)) {
          stored.set(e.id, e);
          added.push(e);
        }
      if (mode === 'land-then-fail') throw new Error('connection reset after commit');
      for (const e of added) opts?.onStored?.(e);
      return added.length;
    },
    total(tenantId: string, kind: string): number {
      let s = 0;
      for (const e of stored.values()) if (e.tenantId === tenantId && e.kind === kind) s += e.quantity;
      return s;
    },
  };
}

const meterWith = (repo: ReturnType<typeof fakeRepo>, clock = new ManualClock('2026-03-01T10:15:00Z')) =>
  new BufferedMeter({ repo, clock, random: cryptoRandom, flushMs: 0 });

test('sums per tenant, hour, kind and subject; one event per sum, each with a unique id', async () => {
  const repo = fakeRepo();
  const clock = new ManualClock('2026-03-01T10:15:00Z');
  const m = meterWith(repo, clock);
  for (let i = 0; i < 100; i++) m.add('acme', 'predicted_rows', 3, 'churn');
  m.add('acme', 'predict_requests', 1, 'churn');
  m.add('acme', 'predicted_rows', 5, 'ltv');
  m.add('beta', 'predicted_rows', 7, 'churn');
  clock.advance(3_600_000);
  m.add('acme', 'predicted_rows', 2, 'churn');
  assert.equal(await m.flush(), 5);
  const events = [...repo.stored.values()];
  assert.equal(new Set(events.map((e) => e.id)).size, events.length);
  const acmeChurn = events.filter(
    (e) => e.tenantId === 'acme' && e.subject === 'churn' && e.kind === 'predicted_rows',
  );
  assert.deepEqual(acmeChurn.map((e) => [e.at, e.quantity]).sort(), [
    ['2026-03-01T10:00:00.000Z', 300],
    ['2026-03-01T11:00:00.000Z', 2],
  ]);
  assert.equal(repo.total('beta', 'predicted_rows'), 7);
  assert.ok(events.every((e) => e.origin === 'own'));
  // Nothing new: nothing written.
  assert.equal(await m.flush(), 0);
  assert.equal(repo.calls.length, 1);
});

test('a failed write keeps its batch and retries it with the same ids', async () => {
  const repo = fakeRepo();
  const m = meterWith(repo);
  m.add('acme', 'predicted_rows', 10, 'churn');
  repo.setMode('fail');
  assert.equal(await m.flush(), 0);
  assert.equal(m.pending, 1);
  m.add('acme', 'predicted_rows', 4, 'churn');
  repo.setMode('ok');
  assert.equal(await m.flush(), 2);
  assert.equal(repo.calls[1][0].id, repo.calls[0][0].id, 'the retried event keeps its id');
  assert.equal(repo.total('acme', 'predicted_rows'), 14);
  assert.equal(m.pending, 0);
});

test('a write that landed but reported an error is counted once after the retry', async () => {
  const repo = fakeRepo();
  const m = meterWith(repo);
  m.add('acme', 'predicted_rows', 10, 'churn');
  m.record([
    {
      id: 'job:j1:cpu',
      tenantId: 'acme',
      kind: 'training_cpu_seconds',
      quantity: 2.5,
      at: '2026-03-01T10:00:00.000Z',
      subject: 'churn',
      origin: 'own',
    },
  ]);
  repo.setMode('land-then-fail');
  await m.flush();
  repo.setMode('ok');
  assert.equal(await m.flush(), 0, 'the replay adds nothing');
  assert.equal(repo.calls.length, 2);
  assert.equal(repo.total('acme', 'predicted_rows'), 10);
  assert.equal(repo.total('acme', 'training_cpu_seconds'), 2.5);
});

test('close writes what is left and stops the timer', async () => {
  const repo = fakeRepo();
  const m = new BufferedMeter({ repo, clock: new ManualClock(), random: cryptoRandom, flushMs: 20 });
  m.add('acme', 'predict_requests', 1);
  await m.close();
  assert.equal(repo.total('acme', 'predict_requests'), 1);
  assert.equal([...repo.stored.values()][0].subject, null);
});

test('the timer flushes every flushMs', async () => {
  const repo = fakeRepo();
  const m = new BufferedMeter({ repo, clock: new ManualClock(), random: cryptoRandom, flushMs: 20 });
  m.add('acme', 'predicted_rows', 3, 'x');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(repo.total('acme', 'predicted_rows'), 3);
  await m.close();
});

test('quantities that are not positive finite numbers are ignored', async () => {
  const repo = fakeRepo();
  const m = meterWith(repo);
  m.add('acme', 'predicted_rows', 0);
  m.add('acme', 'predicted_rows', -1);
  m.add('acme', 'predicted_rows', Number.NaN);
  m.add('acme', 'predicted_rows', Number.POSITIVE_INFINITY);
  assert.equal(await m.flush(), 0);
  assert.equal(repo.calls.length, 0);
});

test('record() drops invalid events (logged by id) and writes the valid ones of the same call', async () => {
  const repo = fakeRepo();
  const warned: Record<string, unknown>[] = [];
  const seen: string[] = [];
  const m = new BufferedMeter({
    repo,
    clock: new ManualClock('2026-03-01T10:15:00Z'),
    random: cryptoRandom,
    flushMs: 0,
    warn: (o) => warned.push(o),
    onAdd: (tenantId, kind) => seen.push(`${tenantId}/${kind}`),
  });
  const ok: UsageEvent = {
    id: 'ok',
    tenantId: 'acme',
    kind: 'storage_byte_hours',
    quantity: 5,
    at: '2026-03-01T10:00:00Z',
    subject: 'datasets',
    origin: 'own',
  };
  const bad: [string, Partial<UsageEvent>][] = [
    ['nan', { quantity: Number.NaN }],
    ['inf', { quantity: Number.POSITIVE_INFINITY }],
    ['neg', { quantity: -2 }],
    ['zero', { quantity: 0 }],
    ['at', { at: 'yesterday' }],
    ['kind', { kind: 'gpu_seconds' as UsageEvent['kind'] }],
    ['origin', { origin: 'theirs' as UsageEvent['origin'] }],
    ['tenant', { tenantId: '' }],
    ['', {}],
  ];
  m.record([...bad.map(([id, over]) => ({ ...ok, id, ...over })), ok]);
  assert.equal(m.pending, 1);
  assert.deepEqual(
    warned.map((w) => w.id),
    bad.map(([id]) => id),
  );
  assert.ok(warned.every((w) => typeof w.problem === 'string'));
  assert.equal(await m.flush(), 1);
  assert.deepEqual([...repo.stored.keys()], ['ok']);
  assert.deepEqual(seen, ['acme/storage_byte_hours'], 'onAdd sees only what was stored');
});

test('onAdd sees what the store took as new, once, after the write: sums and recorded events alike', async () => {
  const seen: [string, string, number][] = [];
  const m = new BufferedMeter({
    repo: fakeRepo(),
    clock: new ManualClock(),
    random: cryptoRandom,
    flushMs: 0,
    onAdd: (t, k, q) => seen.push([t, k, q]),
  });
  const event = {
    id: 'storage:beta:datasets:2026-01-01T00',
    tenantId: 'beta',
    kind: 'storage_byte_hours' as const,
    quantity: 100,
    at: '2026-01-01T00:00:00Z',
    subject: 'datasets',
    origin: 'own' as const,
  };
  m.add('acme', 'predicted_rows', 3, 'x');
  m.add('acme', 'predicted_rows', 2, 'x');
  m.record([event]);
  // Nothing is counted before the store has it (the predict path pays nothing for the hook).
  assert.deepEqual(seen, []);
  await m.flush();
  assert.deepEqual(seen.sort(), [
    ['acme', 'predicted_rows', 5],
    ['beta', 'storage_byte_hours', 100],
  ]);
  // The same storage sample again (another worker's, or a replay): stored once, so counted once.
  m.record([event]);
  await m.flush();
  assert.equal(seen.length, 2);
});

test('prediction() meters a request, its rows and its compute time like three add() calls', async () => {
  const repo = fakeRepo();
  const m = meterWith(repo);
  m.prediction('acme', 'churn', 4, 0.002);
  m.prediction('acme', 'churn', 1, 0.0005);
  m.prediction('acme', 'churn', 2, Number.NaN); // a bad time is skipped, the request and rows count
  await m.flush();
  assert.equal(repo.total('acme', 'predict_requests'), 3);
  assert.equal(repo.total('acme', 'predicted_rows'), 7);
  assert.ok(Math.abs(repo.total('acme', 'inference_cpu_seconds') - 0.0025) < 1e-12);
  assert.ok([...repo.stored.values()].every((e) => e.subject === 'churn' && e.origin === 'own'));
});

test('metering off: a no-op meter that records nothing', async () => {
  const repo = fakeRepo();
  const m = createMeter(
    { metering: false, meteringFlushMs: 10 },
    { repo, clock: new ManualClock(), random: cryptoRandom },
  );
  assert.ok(m instanceof NoopMeter);
  m.add('acme', 'predicted_rows', 3);
  assert.equal(await m.flush(), 0);
  await m.close();
  assert.equal(repo.calls.length, 0);
  const on = createMeter(
    { metering: true, meteringFlushMs: 10 },
    { repo, clock: new ManualClock(), random: cryptoRandom },
  );
  assert.ok(on instanceof BufferedMeter);
  await on.close();
});

test('ids are unique across meters (a random prefix per process)', async () => {
  const repo = fakeRepo();
  const a = meterWith(repo);
  const b = meterWith(repo);
  a.add('acme', 'predicted_rows', 1);
  b.add('acme', 'predicted_rows', 1);
  await a.flush();
  await b.flush();
  assert.equal(repo.total('acme', 'predicted_rows'), 2);
});
