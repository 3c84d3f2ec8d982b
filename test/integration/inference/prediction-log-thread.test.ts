// The prediction log with its writer thread: records leave the main thread within the post window, the
// thread writes them encrypted with the tenant's data key (read back through TenantArtifacts), in files of
// at most MAX_RECORDS_PER_FILE records; close writes what is left; a deleted tenant's records are dropped
// and its folder never comes back, also when the deletion races a flush; the bound counts what the thread
// holds; a killed thread is replaced and what it held is counted as dropped.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { TenantArtifacts } from '../../../src/services/artifacts.ts';
import {
  MAX_RECORDS_PER_FILE,
  PredictionLog,
  type PredictionLogDeps,
  type PredictionRecord,
} from '../../../src/services/inference/prediction-log.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { batchStamp } from '../../../src/services/monitoring/log-keys.ts';
import { FsBlobStore } from '../../../src/store/artifacts/fs.ts';

const clock = new ManualClock('2031-03-04T05:06:07Z');
const random = { bytes: (n: number) => Buffer.alloc(n, 7) };
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A real artifact folder, key ring and tenant artifacts; tenants are created and deleted as the platform does. */
function world() {
  const root = mkdtempSync(join(tmpdir(), 'tml-plog-'));
  roots.push(root);
  const master = Buffer.alloc(32, 3);
  const wrapped = new Map<string, Buffer>();
  const keyring = new KeyRing(master, { wrappedDataKey: async (id: string) => wrapped.get(id) ?? null });
  const blobs = new FsBlobStore(root);
  const artifacts = new TenantArtifacts(blobs, keyring);
  return {
    root,
    blobs,
    artifacts,
    keyring,
    addTenant(id: string) {
      wrapped.set(id, keyring.newWrappedKey(id));
      return mintTenantScope(id, SYSTEM);
    },
    /**
     * The order of TenantService.delete: wrapped key gone, cached key forgotten, folder removed; with
     * `log`, the log is told before the folder is removed (PredictionLog.forgetTenant).
     */
    async deleteTenant(id: string, log?: PredictionLog) {
      wrapped.delete(id);
      keyring.forget(id);
      await log?.forgetTenant(id);
      await artifacts.deleteTenant(id);
    },
    tenantDir: (id: string) => join(root, 'tenants', id),
  };
}

/**
 * A log with a writer thread over the world's folder and key ring; `thread` adds or replaces thread
 * options (a test entry, timeouts), `over` any other dependency.
 */
function threadLog(
  w: ReturnType<typeof world>,
  over: Omit<Partial<PredictionLogDeps>, 'thread'> & {
    thread?: Partial<NonNullable<PredictionLogDeps['thread']>>;
  } = {},
) {
  const { thread, ...rest } = over;
  const counts = { written: 0, dropped: 0, errors: [] as unknown[] };
  const log = new PredictionLog({
    artifacts: w.artifacts,
    blobs: w.blobs,
    clock,
    random,
    sampleRate: 1,
    flushMs: 600_000,
    onWritten: (n) => (counts.written += n),
    onDropped: (n) => (counts.dropped += n),
    onError: (e) => counts.errors.push(e),
    ...rest,
    thread: {
      ...thread,
      root: thread?.root ?? w.root,
      dataKey: thread?.dataKey ?? ((id) => w.keyring.dataKey(id)),
    },
  });
  assert.ok(log.writerThread, 'the log runs a writer thread');
  return { log, counts };
}

const rec = (id: string, model: string, at = '2031-03-04T05:06:07.000Z'): PredictionRecord => ({
  id,
  requestId: 'req',
  at,
  model,
  version: 1,
  mode: 'tenant',
  namespace: 't',
  features: { x: Number(id) || 0 },
  output: { label: 'yes' },
  latencyMs: 1,
});

async function waitFor(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function readAll(
  log: PredictionLog,
  scope: ReturnType<ReturnType<typeof world>['addTenant']>,
  model: string,
) {
  const keys = await log.list(scope, model);
  return { keys, records: (await Promise.all(keys.map((k) => log.read(scope, k)))).flat() };
}

describe('prediction log through its writer thread', () => {
  test('round trip: records leave the main thread, a flush writes them encrypted per tenant, model and day, read back decrypted', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const b = w.addTenant('tb');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', 'churn'));
    log.append(a, rec('2', 'churn'));
    log.append(a, rec('3', 'churn', '2031-03-05T00:00:01.000Z'));
    log.append(b, rec('4', 'churn'));
    log.append(b, rec('5', 'fraud'));
    assert.equal(log.buffered, 5);
    // Within the post window the records are handed to the thread (the main thread keeps none).
    await waitFor('records posted', () => log.writerThread!.held === 5);
    assert.equal(log.buffered, 5);
    await log.flush();
    assert.equal(counts.written, 5);
    assert.equal(log.buffered, 0);
    const ra = await readAll(log, a, 'churn');
    assert.equal(ra.keys.length, 2, 'one file per day');
    assert.match(ra.keys[0], /^predictions\/churn\/2031-03-04\/20310304T050607000Z-[0-9a-f]{8}\.ndjson$/);
    assert.deepEqual(
      ra.records.map((r) => r.id),
      ['1', '2', '3'],
    );
    assert.deepEqual(ra.records[0], rec('1', 'churn'));
    assert.deepEqual(
      (await readAll(log, b, 'churn')).records.map((r) => r.id),
      ['4'],
    );
    assert.deepEqual(
      (await readAll(log, b, 'fraud')).records.map((r) => r.id),
      ['5'],
    );
    // Encrypted with the tenant's own key, bound to its path: tenant b cannot read a's file.
    await assert.rejects(w.artifacts.get(b, ra.keys[0]));
    await log.close();
    assert.deepEqual(counts.errors, []);
  });

  test('records of several tenants posted in one buffer, with text of 1 to 4 bytes a character, come back exact', async () => {
    const w = world();
    const tenants = ['ta', 'tb', 'tc'].map((id) => w.addTenant(id));
    const { log, counts } = threadLog(w);
    const texts = ['é', '漢字', 'plain', '🙂x', 'ß\n"q"'];
    const sent = new Map<string, PredictionRecord[]>();
    for (let i = 0; i < 30; i++) {
      const scope = tenants[i % 3];
      const r = { ...rec(String(i), 'm'), features: { note: texts[i % texts.length].repeat(1 + (i % 4)) } };
      log.append(scope, r);
      sent.set(scope.tenantId, [...(sent.get(scope.tenantId) ?? []), r]);
    }
    await log.flush();
    assert.equal(counts.written, 30);
    for (const scope of tenants) {
      const { records } = await readAll(log, scope, 'm');
      assert.deepEqual(records, sent.get(scope.tenantId), `tenant ${scope.tenantId}`);
    }
    await log.close();
    assert.deepEqual(counts.errors, []);
  });

  test('a big flush is cut into files of at most MAX_RECORDS_PER_FILE records; nothing lost or repeated', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w);
    const n = MAX_RECORDS_PER_FILE * 2 + 5;
    for (let i = 0; i < n; i++) log.append(a, rec(String(i), 'big'));
    await log.flush();
    const { keys, records } = await readAll(log, a, 'big');
    assert.equal(keys.length, 3);
    for (const k of keys) assert.ok((await log.read(a, k)).length <= MAX_RECORDS_PER_FILE, k);
    assert.deepEqual(
      records.map((r) => Number(r.id)).sort((x, y) => x - y),
      Array.from({ length: n }, (_, i) => i),
    );
    assert.equal(counts.written, n);
    await log.close();
  });

  test('close writes what is left, stops the thread, and takes nothing after', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w, {
      thread: { postMs: 60_000 },
    });
    const thread = log.writerThread!.current;
    let exited = false;
    thread.once('exit', () => (exited = true));
    log.append(a, rec('1', 'm'));
    log.append(a, rec('2', 'm'));
    assert.equal(log.writerThread!.held, 0, 'still collected on the main thread (post window not over)');
    await log.close();
    assert.ok(exited, 'the thread has exited');
    assert.deepEqual(
      (await readAll(log, a, 'm')).records.map((r) => r.id),
      ['1', '2'],
    );
    log.append(a, rec('3', 'm'));
    assert.equal(counts.dropped, 1);
    assert.equal(counts.written, 2);
  });

  test('a second close waits for the first: what is left is written when either resolves', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', 'm'));
    const first = log.close();
    await log.close();
    assert.equal(counts.written, 1, 'written before the second close resolved');
    await first;
  });

  test('a fault inside the thread drops and counts what that flush took; the flush is answered, later ones run', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w, {
      thread: {
        workerEntry: new URL('./log-writer-faulty.ts', import.meta.url),
      },
    });
    log.append(a, rec('1', 'm'));
    log.append(a, rec('2', 'm'));
    await log.flush();
    assert.equal(counts.dropped, 2);
    assert.ok(counts.errors.some((e) => String(e).includes('injected fault')));
    log.append(a, rec('3', 'm'));
    await log.flush(); // answered too: the thread's flushes go on
    assert.equal(counts.dropped, 3);
    await log.close();
  });

  test('close ends even when the last flush never does: the thread is stopped and what it held is counted dropped', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w, {
      thread: {
        workerEntry: new URL('./log-writer-stuck.ts', import.meta.url),
        closeTimeoutMs: 200,
      },
    });
    for (let i = 0; i < 3; i++) log.append(a, rec(String(i), 'm'));
    const started = performance.now();
    await log.close();
    assert.ok(performance.now() - started < 5000, 'close did not wait for ever');
    assert.equal(counts.written, 0);
    assert.equal(counts.dropped, 3, 'the records the stuck thread held are counted');
    assert.ok(counts.errors.some((e) => String(e).includes('did not end in time')));
  });

  test('data keys live only as long as a flush: the copy handed over leaves the main thread, the thread zeroes it once written', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const b = w.addTenant('tb');
    const { log, counts } = threadLog(w, {
      thread: {
        workerEntry: new URL('./log-writer-key-spy.ts', import.meta.url),
      },
    });
    const writer = log.writerThread!;
    const handed: Uint8Array[] = [];
    const flush = writer.flush.bind(writer);
    writer.flush = (stamp, keys) => {
      for (const [, key] of keys) if (key) handed.push(key);
      return flush(stamp, keys);
    };
    log.append(a, rec('1', 'm'));
    log.append(b, rec('2', 'm'));
    await log.flush();
    assert.equal(counts.written, 2);
    assert.equal(handed.length, 2);
    for (const key of handed) assert.equal(key.byteLength, 0, 'no copy of the key stays on the main thread');
    const spy = readFileSync(join(w.root, 'key-spy.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      spy,
      [{ keys: 2, zeroed: true }],
      "the thread's keys are zeroed when the flush is answered",
    );
    // The key ring's own cached key is untouched: the next flush still writes.
    log.append(a, rec('3', 'm'));
    await log.close();
    assert.equal(counts.written, 3);
    assert.deepEqual(
      (await readAll(log, a, 'm')).records.map((r) => r.id).sort(), // two files of the same (manual) time
      ['1', '3'],
    );
  });

  test("a batch holds only records made before its flush stamp (monitoring's late-feedback lookup reads batches stamped from the prediction's time on): records arriving during a flush wait for the next", async () => {
    const w = world();
    const own = new ManualClock('2031-03-04T05:06:07Z');
    const big = w.addTenant('tbig');
    const b = w.addTenant('tb');
    let gate: () => void = () => {};
    const gated = new Promise<void>((r) => (gate = r));
    let slow = false;
    const { log, counts } = threadLog(w, {
      clock: own,
      thread: {
        root: w.root,
        // The key reads of one flush take a while (a database read each): the clock goes on meanwhile.
        dataKey: async (id) => {
          if (slow) await gated;
          return w.keyring.dataKey(id);
        },
      },
    });
    const at = () => own.now().toISOString();
    for (let i = 0; i < MAX_RECORDS_PER_FILE * 2; i++) log.append(big, rec(String(i), 'm', at()));
    log.append(b, rec('b0', 'm', at()));
    await waitFor('records posted', () => log.writerThread!.held === MAX_RECORDS_PER_FILE * 2 + 1);
    const writer = log.writerThread!;
    const post = writer.flush.bind(writer);
    writer.flush = (stamp, keys) => {
      const done = post(stamp, keys);
      // Posted right after the flush request, while the thread writes tenant tbig's files.
      own.advance(3000);
      for (let i = 0; i < 256; i++) log.append(b, rec(`late${i}`, 'm', at()));
      return done;
    };
    slow = true;
    const flushed = log.flush();
    await new Promise((r) => setTimeout(r, 20));
    own.advance(3000);
    log.append(b, rec('b1', 'm', at())); // made while the keys are read
    await waitFor('records posted', () => log.writerThread!.held === MAX_RECORDS_PER_FILE * 2 + 2);
    gate();
    await flushed;
    writer.flush = post;
    own.advance(3000);
    await log.close();
    assert.equal(counts.written, MAX_RECORDS_PER_FILE * 2 + 2 + 256);
    const keys = await log.list(b, 'm');
    assert.equal(keys.length, 2, 'the late records are in the next flush');
    for (const k of keys) {
      for (const r of await log.read(b, k))
        assert.ok(Date.parse(r.at) <= batchStamp(k), `${r.id} made at ${r.at}, in batch ${k}`);
    }
  });

  test('a tenant deleted while a flush writes another tenant first: its records that flush took are dropped and counted by the time forgetTenant resolves', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const b = w.addTenant('tb');
    const { log, counts } = threadLog(w);
    const many = MAX_RECORDS_PER_FILE * 10;
    for (let i = 0; i < many; i++) log.append(a, rec(String(i), 'm'));
    for (let i = 0; i < 5; i++) log.append(b, rec(`b${i}`, 'm'));
    await waitFor('records posted', () => log.writerThread!.held === many + 5);
    const flushed = log.flush();
    await waitFor("the flush under way (a's first file written)", () => counts.written > 0);
    await w.deleteTenant('tb', log);
    assert.ok(!log.writerThread!.tenants().includes('tb'), "none of tb's records is still held or taken");
    const bWritten = counts.written >= many + 5 ? 5 : 0;
    assert.equal(counts.dropped, 5 - bWritten, `written ${counts.written}`);
    await flushed;
    assert.equal(counts.written, many + bWritten);
    assert.equal(existsSync(w.tenantDir('tb')), false);
    await log.close();
  });

  test('after close, forgetTenant and flush resolve (a tenant deleted during shutdown is not held up by the stopped thread)', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', 'm'));
    await log.close();
    const limit = <T>(p: Promise<T>, what: string) =>
      Promise.race([
        p,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hangs`)), 2000).unref()),
      ]);
    await limit(w.deleteTenant('ta', log), 'tenant deletion after close');
    await limit(log.flush(), 'flush after close');
    assert.equal(existsSync(w.tenantDir('ta')), false);
    assert.equal(counts.written, 1);
  });

  test("a deleted tenant's records are dropped and counted; its folder is not recreated", async () => {
    const w = world();
    const a = w.addTenant('ta');
    const b = w.addTenant('tb');
    const { log, counts } = threadLog(w);
    for (let i = 0; i < 4; i++) log.append(a, rec(String(i), 'm'));
    log.append(b, rec('9', 'm'));
    await log.flush(); // a's folder exists now
    assert.ok(existsSync(w.tenantDir('ta')));
    for (let i = 0; i < 3; i++) log.append(a, rec(String(i), 'm'));
    await waitFor('records posted', () => log.writerThread!.held === 3);
    await w.deleteTenant('ta');
    log.append(b, rec('10', 'm'));
    await log.flush();
    assert.equal(existsSync(w.tenantDir('ta')), false, "the deleted tenant's folder stays gone");
    assert.equal(counts.dropped, 3);
    assert.equal(counts.written, 4 + 1 + 1, 'other tenants are written as usual');
    assert.equal(log.buffered, 0);
    await log.close();
  });

  test('a tenant deleted while a flush runs (the log told first): the deletion succeeds, its folder never comes back, every record is written or counted', async () => {
    const w = world();
    const { log, counts } = threadLog(w);
    let expected = 0;
    let stopped = 0;
    const outcomes: string[] = [];
    // The deletion starts at different points of the flush: before the key is read, while the folder is
    // made, while the thread encrypts and writes its files.
    for (let delay = 0; delay < 16; delay++) {
      const id = `race${delay}`;
      const s = w.addTenant(id);
      await w.artifacts.put(s, 'models/m/1/model.onnx', Buffer.from('model'));
      const n = MAX_RECORDS_PER_FILE * 4;
      for (let i = 0; i < n; i++) log.append(s, rec(String(i), 'm'));
      expected += n;
      const before = { ...counts };
      const flushed = log.flush();
      for (let t = 0; t < delay; t++) await new Promise((r) => setImmediate(r));
      if (delay > 8) await new Promise((r) => setTimeout(r, delay - 8));
      await w.deleteTenant(id, log); // rejects if a file appeared in the folder while it was removed
      await flushed;
      assert.equal(
        existsSync(w.tenantDir(id)),
        false,
        `tenant folder recreated (deletion after ${delay} turns)`,
      );
      // Some files written, the rest dropped: the deletion stopped a flush between two files.
      if (counts.dropped > before.dropped && counts.written > before.written) stopped++;
      outcomes.push(`${counts.written - before.written}/${counts.dropped - before.dropped}`);
    }
    assert.equal(counts.written + counts.dropped, expected);
    assert.ok(stopped > 0, `some deletions stop a flush under way (written/dropped: ${outcomes.join(' ')})`);
    assert.equal(log.buffered, 0);
    // The same id created again: its records are written again (keys read after the deletion are good).
    const again = w.addTenant('race0');
    log.append(again, rec('1', 'm'));
    await log.flush();
    assert.deepEqual(
      (await readAll(log, again, 'm')).records.map((r) => r.id),
      ['1'],
    );
    await log.close();
  });

  test('forgetTenant drops what is still collected on the main thread and held by the thread', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const b = w.addTenant('tb');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', 'm'));
    log.append(b, rec('2', 'm'));
    await waitFor('records posted', () => log.writerThread!.held === 2);
    log.append(a, rec('3', 'm')); // still on the main thread
    await log.forgetTenant('ta');
    assert.equal(counts.dropped, 2);
    assert.equal(log.buffered, 1);
    await log.close();
    assert.equal(counts.written, 1);
    assert.equal((await log.list(a, 'm')).length, 0);
  });

  test('a tenant without a folder yet (predicting with a shared model) gets one with its log', async () => {
    const w = world();
    const a = w.addTenant('fresh');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', 'shared-model'));
    await log.close();
    assert.equal(counts.written, 1);
    assert.deepEqual(
      (await readAll(log, a, 'shared-model')).records.map((r) => r.id),
      ['1'],
    );
  });

  test('a model name that would leave the tenant folder is refused by the thread (dropped, counted)', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w);
    log.append(a, rec('1', '..'));
    log.append(a, rec('2', 'ok'));
    await log.close();
    assert.equal(counts.dropped, 1);
    assert.equal(counts.written, 1);
    assert.match(String(counts.errors[0]), /invalid prediction log path/);
    assert.equal(
      existsSync(join(w.tenantDir('ta'), '2031-03-04')),
      false,
      'nothing written beside predictions/',
    );
    assert.equal((await log.list(a, 'ok')).length, 1);
  });

  test('a flush starts once flushAtRecords records are held, without waiting for flushMs', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w, { flushAtRecords: 20 }); // flushMs: 10 minutes
    for (let i = 0; i < 19; i++) log.append(a, rec(String(i), 'm'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(counts.written, 0, 'below the count: nothing written before flushMs');
    log.append(a, rec('19', 'm'));
    await waitFor('the 20 records written', () => counts.written === 20);
    assert.equal(log.buffered, 0);
    const { records } = await readAll(log, a, 'm');
    assert.equal(records.length, 20);
    await log.close();
  });

  test('the bound counts records held by the thread: beyond it records are dropped and counted', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w, { maxBuffered: 50 });
    for (let i = 0; i < 80; i++) log.append(a, rec(String(i), 'm'));
    assert.equal(counts.dropped, 30);
    await waitFor('records posted', () => log.writerThread!.held === 50);
    for (let i = 80; i < 90; i++) log.append(a, rec(String(i), 'm'));
    assert.equal(counts.dropped, 40, 'records held by the thread count against the bound');
    await log.flush();
    assert.equal(counts.written, 50);
    log.append(a, rec('90', 'm'));
    await log.close();
    const { records } = await readAll(log, a, 'm');
    assert.deepEqual(
      records.map((r) => Number(r.id)).sort((x, y) => x - y),
      [...Array.from({ length: 50 }, (_, i) => i), 90],
    );
  });

  test('a killed thread: what it held is counted as dropped, a new thread takes over, serving goes on', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const { log, counts } = threadLog(w);
    for (let i = 0; i < 7; i++) log.append(a, rec(String(i), 'm'));
    await waitFor('records posted', () => log.writerThread!.held === 7);
    const first = log.writerThread!.current;
    await first.terminate();
    await waitFor('thread replaced', () => log.writerThread!.starts === 2);
    assert.notEqual(log.writerThread!.current, first);
    assert.equal(counts.dropped, 7);
    assert.equal(log.buffered, 0);
    assert.match(String(counts.errors.at(-1)), /writer thread exited/);
    log.append(a, rec('100', 'm'));
    log.append(a, rec('101', 'm'));
    await log.flush();
    assert.equal(counts.written, 2);
    // A thread killed while a flush waits on it: the flush resolves, it does not hang.
    log.append(a, rec('102', 'm'));
    const flushed = log.flush();
    await log.writerThread!.current.terminate();
    await flushed;
    assert.equal(counts.written + counts.dropped, 10);
    await log.close();
    const { records } = await readAll(log, a, 'm');
    assert.ok(records.some((r) => r.id === '100') && records.some((r) => r.id === '101'));
  });

  test('a replacement thread that cannot be made (new Worker throws: out of threads or memory) is retried later; serving goes on', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const real = new URL('../../../src/services/inference/log-writer/worker.ts', import.meta.url);
    let makes = 0;
    // Read once per thread made: the second make (the first replacement) fails in new Worker itself.
    const flaky = {
      get href() {
        if (++makes === 2) throw new Error('out of threads');
        return real.href;
      },
    } as URL;
    const { log, counts } = threadLog(w, {
      thread: { workerEntry: flaky },
    });
    await log.writerThread!.current.terminate();
    await waitFor('the failed make reported', () =>
      counts.errors.some((e) => /out of threads/.test(String(e))),
    );
    log.append(a, rec('1', 'm'));
    await log.flush(); // no thread: dropped and counted, does not hang
    assert.equal(counts.dropped, 1);
    await waitFor('a thread made again', () => log.writerThread!.starts === 2, 5000);
    log.append(a, rec('2', 'm'));
    await log.close();
    assert.equal(counts.written, 1);
    assert.deepEqual(
      (await readAll(log, a, 'm')).records.map((r) => r.id),
      ['2'],
    );
  });

  test('a thread that cannot start is retried at most once a second; records meanwhile are dropped and counted', async () => {
    const w = world();
    const a = w.addTenant('ta');
    const broken = new URL('data:text/javascript,throw new Error("broken install")');
    const { log, counts } = threadLog(w, {
      thread: { workerEntry: broken },
    });
    await waitFor('the first thread died', () => counts.errors.length >= 1);
    for (let i = 0; i < 5; i++) log.append(a, rec(String(i), 'm'));
    await log.flush(); // resolves, does not hang
    await new Promise((r) => setTimeout(r, 1200));
    assert.ok(log.writerThread!.starts <= 3, `${log.writerThread!.starts} starts in about 1.3 s`);
    assert.equal(counts.dropped, 5);
    assert.equal(counts.written, 0);
    assert.ok(counts.errors.some((e) => /broken install/.test(String(e))));
    await log.close();
  });
});
