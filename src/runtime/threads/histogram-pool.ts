// A HistogramPool over worker threads: the main thread and its workers split each histogram build by
// blocks of features over shared memory (SharedArrayBuffer + Atomics, no message per build). Every
// feature's slots are summed by one thread in row order, so the model is identical to the inline one.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { siblingModule } from '../../core/module-url.ts';
import type { BinnedMatrix } from '../../ml/gbdt/binning.ts';
import { accumulateFeatures, buildHistogram, gatherGradients } from '../../ml/gbdt/histogram.ts';
import type { HistogramPool } from '../../ml/gbdt/pool.ts';
import { workerBootstrap } from '../entry.ts';
import {
  A_BINS,
  A_FEATURES,
  A_G,
  A_H,
  A_HIST,
  A_OFFSETS,
  A_ROWS,
  ARRAYS,
  BOUNDS,
  BUILD_ID,
  CONTROL_INTS,
  DONE,
  END,
  HEARTBEAT,
  MAX_BLOCKS,
  makeWord,
  N_FEATURES,
  N_ROWS,
  type PoolMessage,
  START,
  STATUS,
  STATUS_FAILED,
  STOP,
  WORD,
  type WorkerData,
  wordNext,
  ZERO_OWN,
} from './protocol.ts';

export interface HistogramPoolOptions {
  /** Threads building each histogram, the calling thread included (1 = inline). Default 2. */
  threads?: number;
  /** Builds with fewer row × feature cells than this run inline: waking a thread costs more. */
  minCells?: number;
  /** A worker silent for this long while it holds a block is declared dead. Default 60 s. */
  stallMs?: number;
  /** The worker's module (tests substitute a failing one); default ./histogram-worker.ts. */
  workerEntry?: URL;
}

export interface HistogramPoolStats {
  /** Builds split between threads. */
  sharedBuilds: number;
  /** Builds run inline (too small, or arrays not in shared memory). */
  inlineBuilds: number;
  /** Blocks of features run by the worker threads. */
  workerBlocks: number;
}

export interface ThreadedHistogramPool extends HistogramPool {
  readonly threads: number;
  stats(): HistogramPoolStats;
  /** Stops the workers and waits until their threads have exited; the pool is unusable after. */
  close(): Promise<void>;
}

const DEFAULT_MIN_CELLS = 1 << 16;
const SPIN = 2048;

/**
 * Feature blocks of one build: eights while plenty remain (a pass over the rows serves eight
 * features), then smaller ones so that the threads finish together; at least two per thread.
 */
function planBlocks(nf: number, threads: number, bounds: Int32Array, at: number): number {
  const cap = Math.max(1, Math.ceil(nf / (2 * threads)));
  const size0 = Math.max(Math.min(8, cap), Math.ceil(nf / MAX_BLOCKS));
  const tail = Math.max(Math.min(4, cap), size0 >> 1);
  let blocks = 0;
  let fi = 0;
  bounds[at] = 0;
  while (fi < nf) {
    const remaining = nf - fi;
    fi += Math.min(remaining, remaining >= 2 * size0 * threads ? size0 : tail);
    bounds[at + ++blocks] = fi;
  }
  return blocks;
}

class Pool implements ThreadedHistogramPool {
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly ports: MessagePort[];
  private readonly workers: Worker[];
  /** Settles when each worker's thread has exited, whenever that happened. */
  private readonly exits: Promise<void>[];
  private readonly minCells: number;
  private readonly stallMs: number;
  private ids = new WeakMap<SharedArrayBuffer, number>();
  private nextId = 1;
  private seq = 0;
  private features: Int32Array = new Int32Array(0);
  private broken: Error | null = null;
  private closed = false;
  private sharedBuilds = 0;
  private inlineBuilds = 0;

  constructor(
    control: SharedArrayBuffer,
    workers: Worker[],
    exits: Promise<void>[],
    ports: MessagePort[],
    opts: HistogramPoolOptions,
  ) {
    this.ctrl = new Int32Array(control);
    this.workers = workers;
    this.exits = exits;
    this.ports = ports;
    this.threads = workers.length + 1;
    this.minCells = opts.minCells ?? DEFAULT_MIN_CELLS;
    this.stallMs = opts.stallMs ?? 60_000;
  }

  allocate(bytes: number): SharedArrayBuffer {
    if (this.closed) throw new Error('histogram pool is closed');
    return new SharedArrayBuffer(bytes);
  }

  private idOf(buffer: ArrayBufferLike): number {
    const sab = buffer as SharedArrayBuffer;
    let id = this.ids.get(sab);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(sab, id);
      const msg: PoolMessage = { type: 'share', id, buffer: sab };
      for (const p of this.ports) p.postMessage(msg);
    }
    return id;
  }

  private ref(a: number, arr: Int32Array | Float64Array | Uint8Array): void {
    const o = ARRAYS + 3 * a;
    this.ctrl[o] = this.idOf(arr.buffer);
    this.ctrl[o + 1] = arr.byteOffset;
    this.ctrl[o + 2] = arr.length;
  }

  private fail(): never {
    let detail = '';
    for (const p of this.ports) {
      for (let m = receiveMessageOnPort(p); m; m = receiveMessageOnPort(p)) {
        const msg = m.message as { type?: string; message?: string };
        if (msg.type === 'error') detail = `: ${msg.message}`;
      }
    }
    const status = Atomics.load(this.ctrl, STATUS);
    this.broken = new Error(
      `histogram worker ${status === STATUS_FAILED ? 'failed' : 'stopped'} during a build${detail}`,
    );
    throw this.broken;
  }

  build(
    hist: Float64Array,
    binned: BinnedMatrix,
    features: Int32Array,
    rows: Int32Array,
    start: number,
    end: number,
    g: Float64Array,
    h: Float64Array,
    gOrd: Float64Array,
    hOrd: Float64Array,
  ): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw new Error('histogram pool is closed');
    const nf = features.length;
    const shared = [hist, binned.bins, binned.offsets, rows, g, h].every(
      (a) => a.buffer instanceof SharedArrayBuffer,
    );
    if (this.workers.length === 0 || nf < 2 || (end - start) * nf < this.minCells || !shared) {
      buildHistogram(hist, binned, features, rows, start, end, g, h, gOrd, hOrd);
      this.inlineBuilds++;
      return;
    }
    this.sharedBuilds++;
    if (Atomics.load(this.ctrl, STATUS) !== 0) this.fail();
    const ctrl = this.ctrl;
    if (this.features.length < nf) {
      this.features = new Int32Array(new SharedArrayBuffer(4 * Math.max(nf, 64)));
    }
    this.features.set(features);
    this.ref(A_HIST, hist);
    this.ref(A_ROWS, rows);
    this.ref(A_G, g);
    this.ref(A_H, h);
    this.ref(A_BINS, binned.bins);
    this.ref(A_OFFSETS, binned.offsets);
    this.ref(A_FEATURES, this.features.subarray(0, nf));
    const zeroOwn = nf === binned.cols ? 1 : 0;
    if (!zeroOwn) hist.fill(0);
    ctrl[ZERO_OWN] = zeroOwn;
    ctrl[START] = start;
    ctrl[END] = end;
    ctrl[N_ROWS] = binned.rows;
    ctrl[N_FEATURES] = nf;
    ctrl[BUILD_ID] = (ctrl[BUILD_ID] + 1) | 0;
    const blocks = planBlocks(nf, this.threads, ctrl, BOUNDS);
    Atomics.store(ctrl, DONE, 0);
    this.seq = (this.seq + 1) & 1023;
    Atomics.store(ctrl, WORD, makeWord(this.seq, blocks, 0));
    Atomics.notify(ctrl, WORD);

    gatherGradients(rows, start, end, g, h, gOrd, hOrd);
    const { bins, offsets } = binned;
    for (;;) {
      const w = Atomics.load(ctrl, WORD);
      const b = wordNext(w);
      if (b >= blocks) break;
      if (Atomics.compareExchange(ctrl, WORD, w, w + 1) !== w) continue;
      const from = ctrl[BOUNDS + b];
      const to = ctrl[BOUNDS + b + 1];
      if (zeroOwn) {
        for (let fi = from; fi < to; fi++) {
          const f = features[fi];
          hist.fill(0, 2 * offsets[f], 2 * offsets[f + 1]);
        }
      }
      accumulateFeatures(hist, bins, binned.rows, offsets, features, from, to, rows, start, end, gOrd, hOrd);
      Atomics.add(ctrl, DONE, 1);
    }
    this.awaitDone(blocks);
  }

  /** Waits until every claimed block is done; a failed, exited or silent worker becomes an error. */
  private awaitDone(blocks: number): void {
    const ctrl = this.ctrl;
    // The worker's last block usually ends within microseconds of ours: a short spin saves the sleep
    // and wake-up (tens of microseconds each) of thousands of builds per training.
    for (let spin = 0; spin < SPIN && Atomics.load(ctrl, DONE) < blocks; spin++);
    let lastBeat = Atomics.load(ctrl, HEARTBEAT);
    let silentMs = 0;
    for (;;) {
      const done = Atomics.load(ctrl, DONE);
      if (done >= blocks) break;
      if (Atomics.load(ctrl, STATUS) !== 0) this.fail();
      if (Atomics.wait(ctrl, DONE, done, 1000) === 'timed-out') {
        const beat = Atomics.load(ctrl, HEARTBEAT);
        if (beat !== lastBeat) {
          lastBeat = beat;
          silentMs = 0;
        } else {
          silentMs += 1000;
          if (silentMs < this.stallMs) continue;
          this.broken = new Error(`histogram worker did not finish a block within ${this.stallMs} ms`);
          throw this.broken;
        }
      }
    }
    if (Atomics.load(ctrl, STATUS) !== 0) this.fail();
  }

  stats(): HistogramPoolStats {
    return {
      sharedBuilds: this.sharedBuilds,
      inlineBuilds: this.inlineBuilds,
      workerBlocks: Atomics.load(this.ctrl, HEARTBEAT),
    };
  }

  release(): void {
    this.ids = new WeakMap();
    this.features = new Int32Array(0);
    if (this.closed) return;
    const msg: PoolMessage = { type: 'release' };
    for (const p of this.ports) p.postMessage(msg);
    // An empty build wakes the workers so that they drop the buffers now, not at the next training.
    this.seq = (this.seq + 1) & 1023;
    Atomics.store(this.ctrl, WORD, makeWord(this.seq, 0, 0));
    Atomics.notify(this.ctrl, WORD);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, STOP, 1);
    this.seq = (this.seq + 1) & 1023;
    Atomics.store(this.ctrl, WORD, makeWord(this.seq, 0, 0));
    Atomics.notify(this.ctrl, WORD);
    // A worker asleep in Atomics.wait sees STOP at once; terminate() is only the fallback.
    const timer = setTimeout(() => {
      for (const w of this.workers) void w.terminate();
    }, 2000);
    await Promise.all(this.exits);
    clearTimeout(timer);
    for (const p of this.ports) p.close();
  }
}

/**
 * Starts `threads - 1` worker threads (each loads the tsx loader, so the worker runs from its .ts
 * source) and resolves once all are running; a worker that cannot start rejects the promise.
 */
export async function createHistogramPool(opts: HistogramPoolOptions = {}): Promise<ThreadedHistogramPool> {
  const threads = opts.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new RangeError('threads must be an integer in 1..64');
  const control = new SharedArrayBuffer(4 * CONTROL_INTS);
  const workers: Worker[] = [];
  const exits: Promise<void>[] = [];
  const ports: MessagePort[] = [];
  const bootstrap = workerBootstrap(
    opts.workerEntry ?? siblingModule(import.meta.url, './histogram-worker.ts'),
  );
  try {
    for (let i = 0; i < threads - 1; i++) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = { control, port: port2, index: i };
      const worker = new Worker(bootstrap, {
        eval: true,
        workerData: data,
        transferList: [port2],
      });
      workers.push(worker);
      exits.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
      ports.push(port1);
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        const early = (code: number) =>
          reject(new Error(`histogram worker exited with code ${code} at start`));
        worker.once('exit', early);
        worker.once('message', () => worker.off('exit', early));
      });
      worker.removeAllListeners('error').removeAllListeners('message');
      // Errors after start reach the builds through the control block; this keeps them from crashing the process.
      worker.on('error', () => {});
    }
  } catch (err) {
    const ctrl = new Int32Array(control);
    Atomics.store(ctrl, STOP, 1);
    Atomics.notify(ctrl, WORD);
    await Promise.all(workers.map((w) => w.terminate()));
    for (const p of ports) p.close();
    throw err;
  }
  return new Pool(control, workers, exits, ports, opts);
}
