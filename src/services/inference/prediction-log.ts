// The prediction log: a sample of predictions (id, time, model version, features, output, latency)
// kept in memory and written in batches, off the request path, as encrypted NDJSON under the requesting
// tenant's namespace: predictions/<model>/<yyyy-mm-dd>/<batch>.ndjson. The buffer is bounded: when full,
// entries are dropped and counted, never waited for. Monitoring reads it back with `list` and `read`.
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
/** Most records in one batch file (about 0.5–1 MB of JSON): the unit of work a flush does without a pause. */
export const MAX_RECORDS_PER_FILE = 2000;

export class PredictionLog {
  // Each record is held as its JSON line: a flat string per prediction instead of the request's object graph
  // (parsed body, outputs) kept alive for a whole flush period, which the garbage collector had to copy and
  // promote — with every prediction logged that cost more than a third of the predict path's throughput.
  private buffer: { scope: TenantScope; model: string; day: string; line: string }[] = [];
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
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch {
      this.drop(1); // not JSON (a caller's bug): dropped and counted, serving goes on
      return;
    }
    this.buffer.push({ scope, model: rec.model, day: rec.at.slice(0, 10), line });
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
