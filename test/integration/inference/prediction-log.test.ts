// The prediction log's buffer: bounded (drops and counts, never waits), sampled, grouped into one batch
// file per tenant, model and day, written on close, and a failed write counted without stopping serving.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import {
  MAX_RECORDS_PER_FILE,
  PredictionLog,
  type PredictionRecord,
} from '../../../src/services/inference/prediction-log.ts';

const clock = new ManualClock('2031-03-04T05:06:07Z');
let seq = 0;
const random = { bytes: (n: number) => Buffer.alloc(n, seq++ % 256) };

function memoryArtifacts(fail = false) {
  const files = new Map<string, Buffer>();
  return {
    files,
    artifacts: {
      async put(scope: { tenantId: string }, key: string, data: Uint8Array) {
        if (fail) throw new Error('disk full');
        files.set(`tenants/${scope.tenantId}/${key}`, Buffer.from(data));
        return data.byteLength;
      },
      async get(scope: { tenantId: string }, key: string) {
        const b = files.get(`tenants/${scope.tenantId}/${key}`);
        if (!b) throw new Error('ENOENT');
        return b;
      },
    },
    blobs: {
      async list(prefix: string) {
        return [...files.keys()].filter((k) => k.startsWith(prefix)).sort();
      },
    },
  };
}

const rec = (id: string, model: string, at = '2031-03-04T05:06:07.000Z'): PredictionRecord => ({
  id,
  requestId: 'req',
  at,
  model,
  version: 1,
  mode: 'tenant',
  namespace: 't',
  features: { x: 1 },
  output: { label: 'yes' },
  latencyMs: 1,
});

describe('prediction log', () => {
  const a = mintTenantScope('ta', SYSTEM);
  const b = mintTenantScope('tb', SYSTEM);

  test('one batch per tenant, model and day; read back through the same tenant only', async () => {
    const m = memoryArtifacts();
    const log = new PredictionLog({ ...m, clock, random, sampleRate: 1, flushMs: 60_000 });
    log.append(a, rec('1', 'churn'));
    log.append(a, rec('2', 'churn'));
    log.append(a, rec('3', 'churn', '2031-03-05T00:00:01.000Z'));
    log.append(b, rec('4', 'churn'));
    await log.close(); // close writes what is buffered
    assert.equal(m.files.size, 3);
    const keys = await log.list(a, 'churn');
    assert.equal(keys.length, 2);
    assert.deepEqual(
      (await log.read(a, keys[0])).map((r) => r.id),
      ['1', '2'],
    );
    assert.deepEqual(await log.list(a, 'churn', { from: '2031-03-05' }), [keys[1]]);
    assert.equal((await log.list(b, 'churn')).length, 1);
    // After close nothing more is taken.
    log.append(a, rec('5', 'churn'));
    assert.equal(log.droppedCount, 1);
  });

  test('a record is taken as it is at append (later changes do not reach the log); a big flush is cut into files with pauses between them', async () => {
    const m = memoryArtifacts();
    const log = new PredictionLog({ ...m, clock, random, sampleRate: 1, flushMs: 60_000 });
    const n = MAX_RECORDS_PER_FILE * 2 + 5;
    const shared = { x: 1 };
    for (let i = 0; i < n; i++) log.append(a, { ...rec(String(i), 'big'), features: shared });
    shared.x = 2;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.append(a, { ...rec('cyclic', 'big'), features: cyclic });
    assert.equal(log.droppedCount, 1, 'a record that is not JSON is dropped and counted, not thrown');
    // The flush yields between its files: work queued now runs before it ends.
    let ranDuringFlush = 0;
    let done = false;
    const flushed = log.flush().then(() => {
      done = true;
    });
    const tick = (): void => {
      setImmediate(() => {
        if (done) return;
        ranDuringFlush++;
        tick();
      });
    };
    tick();
    await flushed;
    assert.ok(ranDuringFlush >= 2, `other work ran ${ranDuringFlush} times during the flush`);
    const keys = await log.list(a, 'big');
    assert.equal(keys.length, 3, 'files of at most MAX_RECORDS_PER_FILE records');
    const read = (await Promise.all(keys.map((k) => log.read(a, k)))).flat();
    assert.deepEqual(
      read.map((r) => r.id).sort((x, y) => Number(x) - Number(y)),
      Array.from({ length: n }, (_, i) => String(i)),
    );
    assert.ok((await log.read(a, keys[0])).length <= MAX_RECORDS_PER_FILE);
    assert.ok(read.every((r) => (r.features as { x: number }).x === 1));
    await log.close();
  });

  test('a full buffer drops and counts instead of waiting', async () => {
    const m = memoryArtifacts();
    let dropped = 0;
    const log = new PredictionLog({
      ...m,
      clock,
      random,
      sampleRate: 1,
      flushMs: 60_000,
      maxBuffered: 3,
      onDropped: (n) => (dropped += n),
    });
    for (let i = 0; i < 10; i++) log.append(a, rec(String(i), 'm'));
    assert.equal(log.buffered, 3);
    assert.equal(dropped, 7);
    await log.close();
    const keys = await log.list(a, 'm');
    assert.deepEqual(
      (await log.read(a, keys[0])).map((r) => r.id),
      ['0', '1', '2'],
    );
  });

  test('a failed write is counted as dropped and reported; later writes go on', async () => {
    const m = memoryArtifacts(true);
    const errors: unknown[] = [];
    const log = new PredictionLog({
      ...m,
      clock,
      random,
      sampleRate: 1,
      flushMs: 60_000,
      onError: (e) => errors.push(e),
    });
    log.append(a, rec('1', 'm'));
    await log.flush();
    assert.equal(log.droppedCount, 1);
    assert.equal(errors.length, 1);
    await log.close();
  });

  test('sampling: rate 0 keeps none, rate 1 keeps all, 0.5 about half', () => {
    const m = memoryArtifacts();
    const mk = (sampleRate: number) =>
      new PredictionLog({
        ...m,
        clock,
        random: { bytes: (n) => xorshiftBytes(n) },
        sampleRate,
        flushMs: 60_000,
      });
    const count = (l: PredictionLog) => Array.from({ length: 2000 }, () => l.sample()).filter(Boolean).length;
    const none = mk(0);
    const all = mk(1);
    const half = mk(0.5);
    assert.equal(count(none), 0);
    assert.equal(count(all), 2000);
    const h = count(half);
    assert.ok(h > 850 && h < 1150, `${h} of 2000`);
    for (const l of [none, all, half]) void l.close();
  });
});

/** Deterministic pseudo-random bytes (xorshift), so the sampling test never flakes. */
let state = 0x9e3779b9;
function xorshiftBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}
