// The prediction log: a sample of predictions (id, time, model version, features, output, latency)
// kept in memory and written in batches, off the request path, as encrypted NDJSON under the requesting
// tenant's namespace: predictions/<model>/<yyyy-mm-dd>/<batch>.ndjson. The buffer is bounded: when full,
// entries are dropped and counted, never waited for. The monitoring issue reads it back with `read`.
import type { Clock, Random } from '../../core/clock.ts';
import type { TenantScope } from '../../core/scope.ts';
import type { BlobStore } from '../../store/artifacts/ports.ts';
import { tenantPath } from '../../store/artifacts/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';

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
  onDropped?(n: number): void;
  onWritten?(n: number): void;
  onError?(err: unknown): void;
}

const DEFAULT_MAX_BUFFERED = 50_000;

export class PredictionLog {
  private buffer: { scope: TenantScope; rec: PredictionRecord }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private dropped = 0;
  private readonly max: number;

  constructor(private readonly deps: PredictionLogDeps) {
    this.max = deps.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    if (deps.sampleRate > 0) {
      this.timer = setInterval(() => void this.flush(), deps.flushMs);
      this.timer.unref();
    }
  }

  /** Entries dropped so far (buffer full, or a write that failed). */
  get droppedCount(): number {
    return this.dropped;
  }

  get buffered(): number {
    return this.buffer.length;
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
    if (this.closed || this.buffer.length >= this.max) {
      this.drop(1);
      return;
    }
    this.buffer.push({ scope, rec });
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
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    const groups = new Map<
      string,
      { scope: TenantScope; model: string; day: string; recs: PredictionRecord[] }
    >();
    for (const { scope, rec } of batch) {
      const day = rec.at.slice(0, 10);
      const k = `${scope.tenantId}\u0000${rec.model}\u0000${day}`;
      let g = groups.get(k);
      if (!g) {
        g = { scope, model: rec.model, day, recs: [] };
        groups.set(k, g);
      }
      g.recs.push(rec);
    }
    const stamp = this.deps.clock.now().toISOString().replace(/[-:.]/g, '');
    for (const g of groups.values()) {
      const name = `${stamp}-${this.deps.random.bytes(4).toString('hex')}.ndjson`;
      const key = `predictions/${g.model}/${g.day}/${name}`;
      const body = await serialize(g.recs);
      try {
        await this.deps.artifacts.put(g.scope, key, body);
        this.deps.onWritten?.(g.recs.length);
      } catch (err) {
        // A tenant deleted meanwhile, a full disk: the batch is lost and counted, serving goes on.
        this.drop(g.recs.length);
        this.deps.onError?.(err);
      }
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
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

/** Records serialised at once before the flush lets other work run (a few ms of JSON at most). */
export const SERIALIZE_CHUNK = 256;

// A flush of a busy tenant holds thousands of records (every request of the last flush period): turned into
// JSON in one go it stalls the event loop for tens of ms every period, which is the predict path's p99. In
// chunks with a yield between them, requests keep being answered while the log is written.
async function serialize(recs: PredictionRecord[]): Promise<Buffer> {
  const parts: string[] = [];
  for (let i = 0; i < recs.length; i += SERIALIZE_CHUNK) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(recs.length, i + SERIALIZE_CHUNK);
    let chunk = '';
    for (let j = i; j < end; j++) chunk += `${JSON.stringify(recs[j])}\n`;
    parts.push(chunk);
  }
  return Buffer.from(parts.join(''), 'utf8');
}
