// The prediction log's writer thread: holds the records the main thread posts (as bytes, outside the
// main isolate's heap), and at each flush request encrypts them with the tenant's data key (given with
// the request) and writes them as batch files through an FsBlobStore, exactly as the in-process path.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { encryptBuffer } from '../../../store/artifacts/envelope.ts';
import { FsBlobStore } from '../../../store/artifacts/fs.ts';
import { tenantPath } from '../../../store/artifacts/ports.ts';
import type { FromWriter, ToWriter, WriterData } from './protocol.ts';

const data = workerData as WriterData;
const root = resolve(data.root);
const blobs = new FsBlobStore(root);
const port = parentPort!;

interface Group {
  model: string;
  day: string;
  /** Chunks of lines as posted (each at most a few hundred lines), with their line counts. */
  chunks: { bytes: Buffer; count: number }[];
}

/** Held records: tenant → (model, day) → group. */
const held = new Map<string, Map<string, Group>>();
/** Tenants being deleted → the epoch from which their keys are accepted again. */
const barrier = new Map<string, number>();
/** The file being written now (a forget waits for it). */
let writing: { tenantId: string; done: Promise<unknown> } | null = null;

function hold({ bytes, batches }: Extract<ToWriter, { type: 'records' }>): void {
  for (const b of batches) {
    let groups = held.get(b.tenantId);
    if (!groups) {
      groups = new Map();
      held.set(b.tenantId, groups);
    }
    const k = `${b.model}\u0000${b.day}`;
    let g = groups.get(k);
    if (!g) {
      g = { model: b.model, day: b.day, chunks: [] };
      groups.set(k, g);
    }
    // A view on the posted buffer, no copy: it lives until every batch of it is written.
    g.chunks.push({
      bytes: Buffer.from(bytes.buffer, bytes.byteOffset + b.start, b.end - b.start),
      count: b.count,
    });
  }
}

const send = (m: FromWriter): void => port.postMessage(m);

/**
 * Day folders known to exist, so that a tenant's next files skip the mkdir calls (three a file, with
 * thousands of small files a minute when many tenants predict). A tenant's entries go when it is
 * forgotten (before its folder is removed), and an entry whose write failed goes too.
 */
const made = new Set<string>();
const MADE_MAX = 100_000;
/** The folder a log file's key names, below the tenant's folder. */
const folderOf = (tenantId: string, key: string): string => join(root, tenantPath(tenantId, key), '..');

/**
 * Creates the folders of `key` below the tenant's folder one level at a time, never the tenant's folder
 * itself: a tenant deleted meanwhile (its folder removed) makes this fail with ENOENT instead of
 * bringing the folder back.
 */
async function folders(tenantId: string, key: string): Promise<void> {
  let dir = join(root, tenantPath(tenantId, ''));
  const parts = key.split('/').slice(0, -1);
  if ([tenantId, ...parts].some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new Error('invalid prediction log path');
  }
  const leaf = folderOf(tenantId, key);
  if (made.has(leaf)) return;
  for (const p of parts) {
    dir = join(dir, p);
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (made.size >= MADE_MAX) made.clear();
  made.add(leaf);
}

function countOf(groups: Map<string, Group>): number {
  let n = 0;
  for (const g of groups.values()) for (const c of g.chunks) n += c.count;
  return n;
}

/** Records of the tenant being written that its progress messages have accounted for so far. */
let reported = 0;

async function writeTenant(
  tenantId: string,
  dek: Buffer,
  epoch: number,
  stamp: string,
  groups: Map<string, Group>,
) {
  for (const g of groups.values()) {
    // Chunks packed into files of at most maxRecordsPerFile records (a chunk is far smaller than that).
    let i = 0;
    while (i < g.chunks.length) {
      const files: Buffer[] = [];
      let count = 0;
      while (i < g.chunks.length && (count === 0 || count + g.chunks[i].count <= data.maxRecordsPerFile)) {
        files.push(g.chunks[i].bytes);
        count += g.chunks[i].count;
        i++;
      }
      if (epoch < (barrier.get(tenantId) ?? 0)) {
        // Deleted while this flush ran: not one more file.
        reported += count;
        send({ type: 'progress', tenantId, written: 0, dropped: count, error: 'tenant deleted' });
        continue;
      }
      const key = `predictions/${g.model}/${g.day}/${stamp}-${randomBytes(4).toString('hex')}.ndjson`;
      try {
        const done = (async () => {
          await folders(tenantId, key);
          const sealed = encryptBuffer(dek, tenantId, key, Buffer.concat(files));
          await blobs.put(tenantPath(tenantId, key), sealed);
        })();
        writing = { tenantId, done: done.catch(() => {}) };
        await done;
        reported += count;
        send({ type: 'progress', tenantId, written: count, dropped: 0 });
      } catch (err) {
        made.delete(folderOf(tenantId, key));
        const code = (err as NodeJS.ErrnoException).code;
        const error = code === 'ENOENT' ? 'tenant folder gone (tenant deleted)' : String(err);
        reported += count;
        send({ type: 'progress', tenantId, written: 0, dropped: count, error });
      } finally {
        writing = null;
      }
    }
  }
}

/**
 * The records a flush writes: what the named tenants have held when its request arrives (taken at once,
 * so that records arriving while it writes wait for the next flush and every batch holds only records
 * made before its stamp).
 */
function take(m: Extract<ToWriter, { type: 'flush' }>): Map<string, Map<string, Group>> {
  const taken = new Map<string, Map<string, Group>>();
  for (const [tenantId] of m.keys) {
    const groups = held.get(tenantId);
    if (!groups) continue;
    held.delete(tenantId);
    taken.set(tenantId, groups);
  }
  return taken;
}

/** What the flushes asked for and not yet done have taken, per tenant (a forget drops from them too). */
const taking = new Set<Map<string, Map<string, Group>>>();

async function flush(
  m: Extract<ToWriter, { type: 'flush' }>,
  taken: Map<string, Map<string, Group>>,
): Promise<void> {
  let current: { tenantId: string; records: number } | null = null;
  try {
    for (const [tenantId, key, epoch] of m.keys) {
      const groups = taken.get(tenantId);
      if (!groups) continue;
      taken.delete(tenantId);
      // From here the tenant's records are accounted for by `reported` (the catch below counts the rest).
      current = { tenantId, records: countOf(groups) };
      reported = 0;
      if (key === null || epoch < (barrier.get(tenantId) ?? 0)) {
        reported = current.records;
        send({ type: 'progress', tenantId, written: 0, dropped: current.records });
        continue;
      }
      // A view on the key the flush carried (no copy), zeroed below.
      await writeTenant(
        tenantId,
        Buffer.from(key.buffer, key.byteOffset, key.byteLength),
        epoch,
        m.stamp,
        groups,
      );
    }
  } catch (err) {
    // Not a write that failed (those are counted per file): a bug. What this flush took and did not write
    // is dropped and counted, and the flush is still answered, so later flushes and close() go on.
    if (current && current.records > reported)
      send({
        type: 'progress',
        tenantId: current.tenantId,
        written: 0,
        dropped: current.records - reported,
        error: String(err),
      });
    for (const [tenantId, groups] of taken)
      send({ type: 'progress', tenantId, written: 0, dropped: countOf(groups), error: String(err) });
    taken.clear();
  } finally {
    // The data keys live as long as the flush that needed them: none stays in this thread's memory.
    for (const [, key] of m.keys) key?.fill(0);
    send({ type: 'flushed', id: m.id });
  }
}

// Flushes run one after the other; records that arrive meanwhile are held for the next one.
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWriter) => {
  if (m.type === 'records') hold(m);
  else if (m.type === 'flush') {
    const taken = take(m);
    taking.add(taken);
    chain = chain.then(() => flush(m, taken)).finally(() => taking.delete(taken));
  } else if (m.type === 'forget') {
    // At once, not after the flushes queued before it: a flush under way stops before its next file.
    barrier.set(m.tenantId, m.epoch);
    const mine = join(root, tenantPath(m.tenantId, ''));
    for (const dir of made) if (dir.startsWith(mine)) made.delete(dir);
    // Held, or taken by a flush that has not reached the tenant yet.
    for (const records of [held, ...taking]) {
      const groups = records.get(m.tenantId);
      if (!groups) continue;
      records.delete(m.tenantId);
      send({ type: 'progress', tenantId: m.tenantId, written: 0, dropped: countOf(groups) });
    }
    const current = writing?.tenantId === m.tenantId ? writing.done : undefined;
    void Promise.resolve(current).then(() => send({ type: 'forgotten', id: m.id }));
  }
});
