// The prediction log: a sample of predictions (id, time, model version, features, output, latency)
// kept in memory and written in batches, off the request path, as encrypted NDJSON under the requesting
// tenant's namespace: predictions/<model>/<yyyy-mm-dd>/<batch>.ndjson. The buffer is bounded: when full,
// entries are dropped and counted, never waited for. Monitoring reads it back with `list` and `read`.
//
// With a writer thread (the platform's filesystem artifacts) the records leave the main isolate within
// ~20 ms: keeping seconds of records there, and encrypting and writing them on the event loop, cost the
// predict path's tail latency (p99 at half load ×5, mostly from the garbage collector's old-space work).
// The thread holds them as bytes and writes them at each flush, with the data keys the flush hands it.
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Random } from '../../core/clock.ts';
import type { TenantScope } from '../../core/scope.ts';
import type { BlobStore } from '../../store/artifacts/ports.ts';
import { tenantPath } from '../../store/artifacts/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import type { LineBatch } from './log-writer/protocol.ts';
import { WriterThread } from './log-writer/thread.ts';

export interface PredictionRecord {
  /** The prediction id (what feedback names). */
  id: string;
  /** The request it came in. */
  requestId: string;
  at: string;
  model: string;
  version: number;
  mode: string;
  /** Where the model lives: the tenant itself, or `_shared`. */
  namespace: string;
  features: unknown;
  output: unknown;
  latencyMs: number;
}

export interface PredictionLogDeps {
  artifacts: Pick<TenantArtifacts, 'put' | 'get'>;
  blobs: Pick<BlobStore, 'list'>;
  clock: Clock;
  random: Random;
  sampleRate: number;
  flushMs: number;
  /** Most entries held in memory across tenants. */
  maxBuffered?: number;
  /**
   * A flush starts as soon as this many records are held (besides every `flushMs`), so that a busy
   * server holds a few MB of log, not a whole flush period's worth. Default 10,000.
   */
  flushAtRecords?: number;
  onDropped?(n: number): void;
  onWritten?(n: number): void;
  onError?(err: unknown): void;
  /**
   * Write through a worker thread (one per log) into the filesystem artifact store at `root`, with the
   * tenants' data keys from `dataKey` (the KeyRing: cached, rejects for a deleted tenant). Without it the
   * log encrypts and writes on the calling thread through `artifacts`.
   */
  thread?: {
    root: string;
    dataKey(tenantId: string): Promise<Buffer>;
    /** Longest a record waits on the main thread before it is posted. Default 20 ms. */
    postMs?: number;
    /** The thread's module (tests). */
    workerEntry?: URL;
    /**
     * Longest close() waits for the last flush (a blocked disk, a thread that stopped answering) before
     * it stops the thread anyway, counting what the thread still held as dropped. Default 15 s.
     */
    closeTimeoutMs?: number;
  };
}

/** Most lines collected on the main thread before they are posted to the writer thread. */
const POST_LINES = 256;
const DEFAULT_POST_MS = 20;

const DEFAULT_MAX_BUFFERED = 50_000;
const DEFAULT_FLUSH_AT_RECORDS = 10_000;
/** Most records in one batch file (about 0.5–1 MB of JSON): the unit of work a flush does without a pause. */
export const MAX_RECORDS_PER_FILE = 2000;

/** Lines of one (tenant, model, day) collected on the main thread: `count` lines, each ending in "\n". */
interface PendingLines {
  tenantId: string;
  model: string;
  day: string;
  text: string;
  count: number;
}

/**
 * The collected lines as UTF-8 in one buffer of its own (not Buffer's shared pool: the post transfers
 * it), each batch naming its byte range.
 */
function encodeLines(pending: PendingLines[]): [Uint8Array, LineBatch[]] {
  let total = 0;
  for (const p of pending) total += Buffer.byteLength(p.text, 'utf8');
  const bytes = Buffer.from(new ArrayBuffer(total));
  const batches: LineBatch[] = [];
  let at = 0;
  for (const { tenantId, model, day, text, count } of pending) {
    const end = at + bytes.write(text, at, 'utf8');
    batches.push({ tenantId, model, day, start: at, end, count });
    at = end;
  }
  return [bytes, batches];
}

export class PredictionLog {
  // Each record is held as its JSON line: a flat string per prediction instead of the request's object graph
  // (parsed body, outputs) kept alive for a whole flush period, which the garbage collector had to copy and
  // promote — with every prediction logged that cost more than a third of the predict path's throughput.
  private buffer: { scope: TenantScope; model: string; day: string; line: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  private dropped = 0;
  private readonly max: number;
  private readonly flushAt: number;
  /** A flush started by the record count is running (another is not started meanwhile). */
  private countFlush = false;
  /** With a writer thread: lines collected per (tenant, model, day) until the next post. */
  private pending = new Map<string, PendingLines>();
  private pendingLines = 0;
  private postTimer: NodeJS.Timeout | null = null;
  private readonly writer: WriterThread | null = null;
  /** Per tenant, how many times it was forgotten (deleted): keys read before are refused by the thread. */
  private readonly epochs = new Map<string, number>();

  constructor(private readonly deps: PredictionLogDeps) {
    this.max = deps.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.flushAt = deps.flushAtRecords ?? DEFAULT_FLUSH_AT_RECORDS;
    if (deps.thread && deps.sampleRate > 0) {
      this.writer = new WriterThread({
        root: deps.thread.root,
        maxRecordsPerFile: MAX_RECORDS_PER_FILE,
        workerEntry: deps.thread.workerEntry,
        onWritten: (n) => deps.onWritten?.(n),
        onDropped: (n) => this.drop(n),
        onError: (err) => deps.onError?.(err),
      });
    }
    if (deps.sampleRate > 0) {
      this.timer = setInterval(() => void this.flush(), deps.flushMs);
      this.timer.unref();
    }
  }

  /** Entries dropped so far (buffer full, or a write that failed). */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Records held: on this thread, and (with a writer thread) posted to or held by it. */
  get buffered(): number {
    return this.buffer.length + this.pendingLines + (this.writer?.held ?? 0);
  }

  /** The writer thread, if any (tests). */
  get writerThread(): WriterThread | null {
    return this.writer;
  }

  /** Whether the next prediction is kept (a sample at the configured rate). */
  sample(): boolean {
    const r = this.deps.sampleRate;
    if (r >= 1) return true;
    if (r <= 0) return false;
    return this.deps.random.bytes(4).readUInt32LE(0) / 0x1_0000_0000 < r;
  }

  /** Buffers one record under the requesting tenant's scope; never blocks and never throws. */
  append(scope: TenantScope, rec: PredictionRecord): void {
    if (this.closed || this.buffered >= this.max) {
      this.drop(1);
      return;
    }
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch {
      this.drop(1); // not JSON (a caller's bug): dropped and counted, serving goes on
      return;
    }
    const day = rec.at.slice(0, 10);
    if (this.writer) this.collect(scope.tenantId, rec.model, day, line);
    else this.buffer.push({ scope, model: rec.model, day, line });
    if (!this.countFlush && this.buffered >= this.flushAt) {
      this.countFlush = true;
      this.flush()
        .catch((err) => this.deps.onError?.(err))
        .finally(() => {
          this.countFlush = false;
        });
    }
  }

  private collect(tenantId: string, model: string, day: string, line: string): void {
    const k = `${tenantId}\u0000${model}\u0000${day}`;
    const b = this.pending.get(k);
    if (b) {
      b.text += `${line}\n`;
      b.count++;
    } else this.pending.set(k, { tenantId, model, day, text: `${line}\n`, count: 1 });
    if (++this.pendingLines >= POST_LINES) this.post();
    else if (!this.postTimer) {
      this.postTimer = setTimeout(() => this.post(), this.deps.thread?.postMs ?? DEFAULT_POST_MS);
      this.postTimer.unref();
    }
  }

  /** Hands the collected lines to the writer thread. */
  private post(): void {
    if (this.postTimer) clearTimeout(this.postTimer);
    this.postTimer = null;
    if (this.pendingLines === 0 || !this.writer) return;
    const pending = [...this.pending.values()];
    this.pending = new Map();
    this.pendingLines = 0;
    this.writer.post(...encodeLines(pending));
  }

  private drop(n: number): void {
    this.dropped += n;
    this.deps.onDropped?.(n);
  }

  /** Writes everything buffered now; flushes never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeAll());
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    if (this.writer) return this.writeThrough(this.writer, this.deps.thread!);
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const groups = new Map<string, { scope: TenantScope; model: string; day: string; lines: string[] }>();
    for (const { scope, model, day, line } of batch) {
      const k = `${scope.tenantId}\u0000${model}\u0000${day}`;
      let g = groups.get(k);
      if (!g) {
        g = { scope, model, day, lines: [] };
        groups.set(k, g);
      }
      g.lines.push(line);
    }
    const stamp = this.deps.clock.now().toISOString().replace(/[-:.]/g, '');
    let first = true;
    for (const g of groups.values()) {
      for (let i = 0; i < g.lines.length; i += MAX_RECORDS_PER_FILE) {
        // Joining, encrypting and writing one file runs on the event loop in one piece: a busy tenant's
        // flush is cut into files of a bounded size with a yield between them, so requests are answered
        // in between instead of waiting for the whole flush.
        if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
        first = false;
        const lines = g.lines.slice(i, i + MAX_RECORDS_PER_FILE);
        const name = `${stamp}-${this.deps.random.bytes(4).toString('hex')}.ndjson`;
        const key = `predictions/${g.model}/${g.day}/${name}`;
        const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
        try {
          await this.deps.artifacts.put(g.scope, key, body);
          this.deps.onWritten?.(lines.length);
        } catch (err) {
          // A tenant deleted meanwhile, a full disk: the batch is lost and counted, serving goes on.
          this.drop(lines.length);
          this.deps.onError?.(err);
        }
      }
    }
  }

  /**
   * Asks the writer thread to write every tenant's records it holds, handing it their data keys. The
   * tenant's folder is made before its key is read: a tenant deleted meanwhile has its key forgotten
   * before its folder is removed, so a key read after the folder was made means the removal (if any)
   * comes after, and the thread, which never creates a tenant's folder, cannot bring it back.
   */
  private async writeThrough(
    writer: WriterThread,
    t: NonNullable<PredictionLogDeps['thread']>,
  ): Promise<void> {
    this.post();
    const tenants = writer.tenants();
    if (tenants.length === 0) return;
    const keys = await Promise.all(
      tenants.map(async (id): Promise<[string, Uint8Array | null, number]> => {
        const epoch = this.epochs.get(id) ?? 0;
        const dir = join(t.root, tenantPath(id, ''));
        let made: string | undefined;
        try {
          await t.dataKey(id); // a deleted tenant: no folder made
          made = await mkdir(dir, { recursive: true });
          // A copy in its own memory (the key may sit in a pooled buffer shared with other bytes), which
          // the flush transfers to the thread: it leaves this thread, and the thread zeroes it once written.
          return [id, new Uint8Array(await t.dataKey(id)), epoch];
        } catch {
          if (made !== undefined) await rmdir(dir).catch(() => {});
          return [id, null, epoch];
        }
      }),
    );
    // Stamped as the request leaves, after the key reads: the thread writes only what reached it before
    // the request, so every record of a batch was made before its stamp — monitoring looks for a
    // prediction (late feedback) in the batches stamped from its time on.
    const stamp = this.deps.clock.now().toISOString().replace(/[-:.]/g, '');
    await writer.flush(stamp, keys);
  }

  /**
   * A tenant is being deleted (call before its folder is removed): its records still held are dropped and
   * counted, and once this resolves no file of it is being written, nor will be with a key read before.
   */
  async forgetTenant(tenantId: string): Promise<void> {
    const before = this.buffer.length;
    this.buffer = this.buffer.filter((e) => e.scope.tenantId !== tenantId);
    let n = before - this.buffer.length;
    for (const [k, b] of this.pending) {
      if (b.tenantId !== tenantId) continue;
      this.pending.delete(k);
      this.pendingLines -= b.count;
      n += b.count;
    }
    if (n > 0) this.drop(n);
    if (!this.writer) return;
    const epoch = (this.epochs.get(tenantId) ?? 0) + 1;
    this.epochs.set(tenantId, epoch);
    await this.writer.forget(tenantId, epoch);
  }

  /**
   * Stops the timer and writes what is left (with a writer thread: then stops the thread). A second call
   * waits for the same close: what is left is written when it resolves, whoever called.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      if (this.timer) clearInterval(this.timer);
      const writer = this.writer;
      if (!writer) {
        await this.flush();
        return;
      }
      // Shutdown must end: the last flush is waited for a bounded time, then the thread is stopped.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.flush().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), this.deps.thread?.closeTimeoutMs ?? 15_000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        const lost = writer.held;
        if (lost > 0) this.drop(lost);
        this.deps.onError?.(
          new Error(`prediction log: the last flush did not end in time; ${lost} records dropped`),
        );
      }
      await writer.close();
    })();
    return this.closing;
  }

  /** The log's batch files for a model, oldest first, optionally only days within [from, to] (yyyy-mm-dd). */
  async list(
    scope: TenantScope,
    model: string,
    range: { from?: string; to?: string } = {},
  ): Promise<string[]> {
    const prefix = `predictions/${model}/`;
    const base = tenantPath(scope.tenantId, '');
    const all = await this.deps.blobs.list(tenantPath(scope.tenantId, prefix));
    return all
      .map((p) => p.slice(base.length))
      .filter((k) => {
        const day = k.slice(prefix.length, prefix.length + 10);
        return (!range.from || day >= range.from) && (!range.to || day <= range.to);
      });
  }

  /** The records of one batch file (a key from `list`), decrypted. */
  async read(scope: TenantScope, key: string): Promise<PredictionRecord[]> {
    const text = (await this.deps.artifacts.get(scope, key)).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as PredictionRecord);
  }
}
