// The main thread's side of the prediction log's writer thread: posts batches of lines to it, keeps count
// of the records in flight to and held by the thread (per tenant: whose data keys a flush needs), and
// replaces a thread that died, counting the records it held as dropped — serving never waits on it.
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../../../core/module-url.ts';
import { workerBootstrap } from '../../../runtime/entry.ts';
import type { FromWriter, LineBatch, ToWriter, WriterData } from './protocol.ts';

export interface WriterThreadOptions {
  /** The artifacts root (config.artifactsDir): the thread writes through an FsBlobStore on it. */
  root: string;
  maxRecordsPerFile: number;
  onWritten(n: number): void;
  onDropped(n: number): void;
  onError(err: unknown): void;
  /** The thread's module (tests substitute one); default ./worker.ts. */
  workerEntry?: URL;
}

/** Least time between two starts of the thread. */
const RESTART_MS = 1000;

export class WriterThread {
  /** The thread running, or the last one (undefined only while none could ever be made). */
  private worker: Worker | undefined;
  /** Records posted and not yet reported written or dropped, per tenant. */
  private readonly perTenant = new Map<string, number>();
  private total = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  private closing = false;
  /** False between a thread's death and its replacement's start. */
  private live = false;
  private startedAt = 0;
  /** Threads started so far (1 + replacements). */
  starts = 0;

  constructor(private readonly opts: WriterThreadOptions) {
    this.start();
  }

  /** Records in flight to, or held by, the thread. */
  get held(): number {
    return this.total;
  }

  /** The running thread (tests terminate it to check the replacement). */
  get current(): Worker {
    if (!this.worker) throw new Error('no prediction log writer thread could be made yet');
    return this.worker;
  }

  /** Tenants with records held by the thread. */
  tenants(): string[] {
    return [...this.perTenant.keys()];
  }

  private start(): void {
    const data: WriterData = { root: this.opts.root, maxRecordsPerFile: this.opts.maxRecordsPerFile };
    const entry = this.opts.workerEntry ?? siblingModule(import.meta.url, './worker.ts');
    let worker: Worker;
    try {
      worker = new Worker(workerBootstrap(entry), { eval: true, workerData: data });
    } catch (err) {
      // No thread can be made now (out of threads or memory): reported and tried again later, as for a
      // thread that died — thrown from a timer or an exit handler it would end the process.
      this.opts.onError(err);
      this.live = false;
      this.startedAt = Date.now();
      this.restart();
      return;
    }
    this.starts++;
    this.live = true;
    this.startedAt = Date.now();
    worker.on('message', (m: FromWriter) => this.onMessage(m));
    worker.on('error', (err) => this.opts.onError(err));
    worker.once('exit', (code) => {
      if (this.worker !== worker || this.closing) return;
      this.died(code);
    });
    // The thread keeps no process alive on its own (the log's owner closes it); after the listeners,
    // which would take a reference again.
    worker.unref();
    this.worker = worker;
  }

  /** A thread that ended unasked: what it held is lost (counted), waiting flushes end, a new one starts. */
  private died(code: number): void {
    const lost = this.total;
    this.perTenant.clear();
    this.total = 0;
    if (lost > 0) this.opts.onDropped(lost);
    this.opts.onError(new Error(`prediction log writer thread exited (code ${code}); ${lost} records lost`));
    for (const done of this.waiting.values()) done();
    this.waiting.clear();
    this.live = false;
    this.restart();
  }

  /**
   * A thread that cannot even start (a broken install) is retried once a second, not in a tight loop;
   * records meanwhile are dropped and counted.
   */
  private restart(): void {
    const wait = Math.max(0, RESTART_MS - (Date.now() - this.startedAt));
    if (wait === 0) this.start();
    else
      setTimeout(() => {
        if (!this.closing) this.start();
      }, wait).unref();
  }

  private onMessage(m: FromWriter): void {
    if (m.type === 'flushed' || m.type === 'forgotten') {
      this.answered(m.id);
      return;
    }
    const n = m.written + m.dropped;
    const left = (this.perTenant.get(m.tenantId) ?? 0) - n;
    if (left > 0) this.perTenant.set(m.tenantId, left);
    else this.perTenant.delete(m.tenantId);
    this.total -= n;
    if (m.written > 0) this.opts.onWritten(m.written);
    if (m.dropped > 0) this.opts.onDropped(m.dropped);
    if (m.error) this.opts.onError(new Error(`prediction log: ${m.error}`));
  }

  /** Hands the thread `batches`, whose lines are in `bytes` (transferred: unusable here afterwards). */
  post(bytes: Uint8Array, batches: LineBatch[]): void {
    if (!this.live || !this.worker) {
      this.opts.onDropped(batches.reduce((n, b) => n + b.count, 0));
      return;
    }
    for (const b of batches) {
      this.perTenant.set(b.tenantId, (this.perTenant.get(b.tenantId) ?? 0) + b.count);
      this.total += b.count;
    }
    const msg: ToWriter = { type: 'records', bytes, batches };
    this.worker.postMessage(msg, [bytes.buffer as ArrayBuffer]);
  }

  /** Asks the thread to write the named tenants' records; resolves when it has (or when it died). */
  flush(stamp: string, keys: [string, Uint8Array | null, number][]): Promise<void> {
    // The keys' memory moves to the thread (which zeroes it once written): no copy stays here.
    const own = keys.flatMap(([, key]) => (key ? [key] : []));
    if (!this.live || this.closing) {
      for (const key of own) key.fill(0);
      return Promise.resolve();
    }
    return this.ask(
      { type: 'flush', id: this.nextId++, stamp, keys },
      own.map((k) => k.buffer as ArrayBuffer),
    );
  }

  /** Drops the tenant's records and resolves once the thread writes nothing more for it (see protocol.ts). */
  forget(tenantId: string, epoch: number): Promise<void> {
    return this.ask({ type: 'forget', id: this.nextId++, tenantId, epoch });
  }

  /** Posts a request and waits for its answer, keeping the process alive meanwhile (see start()). */
  private ask(msg: Extract<ToWriter, { id: number }>, transfer: ArrayBuffer[] = []): Promise<void> {
    // No thread (between a death and its replacement, or stopped by close): nothing to wait for — a
    // message to a stopped thread is never answered, and its promise would keep a tenant's deletion
    // waiting for ever.
    const worker = this.worker;
    if (!this.live || this.closing || !worker) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiting.set(msg.id, resolve);
      worker.ref();
      worker.postMessage(msg, transfer);
    });
  }

  private answered(id: number): void {
    this.waiting.get(id)?.();
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker?.unref();
  }

  /** Stops the thread (after the last flush resolved) and waits until it has exited. */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker?.terminate();
    // A forget still waiting when the thread stopped: nothing of the tenant is being written any more.
    for (const done of this.waiting.values()) done();
    this.waiting.clear();
  }
}
