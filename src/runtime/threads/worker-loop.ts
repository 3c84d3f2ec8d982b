// The loop of a histogram worker thread: sleeps on the control word, claims blocks of features of the
// current build and runs them; a failure or an exit is written to the control block for the builder.
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { accumulateFeatures, gatherGradients } from '../../ml/gbdt/histogram.ts';
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
  DONE,
  END,
  HEARTBEAT,
  N_ROWS,
  type PoolMessage,
  START,
  STATUS,
  STATUS_EXITED,
  STATUS_FAILED,
  STOP,
  WORD,
  type WorkerData,
  wordBlocks,
  wordNext,
  ZERO_OWN,
} from './protocol.ts';

/** Runs block b of the current build; the caller holds the block's claim, so the build cannot change. */
export type BlockRunner = (b: number) => void;

/** Serves builds until the pool stops; `makeRunner` (tests substitute it) gets the shared views. */
export function serve(data: WorkerData, makeRunner?: (defaultRunner: BlockRunner) => BlockRunner): void {
  const { control, port } = data;
  const ctrl = new Int32Array(control);
  const buffers = new Map<number, SharedArrayBuffer>();
  let gOrd = new Float64Array(0);
  let hOrd = new Float64Array(0);

  function drain(): void {
    for (;;) {
      const m = receiveMessageOnPort(port);
      if (!m) return;
      const msg = m.message as PoolMessage;
      if (msg.type === 'share') buffers.set(msg.id, msg.buffer);
      else {
        buffers.clear();
        gOrd = new Float64Array(0);
        hOrd = new Float64Array(0);
      }
    }
  }

  function buffer(a: number): SharedArrayBuffer {
    const id = ctrl[ARRAYS + 3 * a];
    let b = buffers.get(id);
    if (!b) {
      drain();
      b = buffers.get(id);
      if (!b) throw new Error(`histogram worker: unknown shared buffer ${id}`);
    }
    return b;
  }

  type View<T> = new (b: SharedArrayBuffer, byteOffset: number, length: number) => T;
  function view<T>(a: number, Ctor: View<T>): T {
    return new Ctor(buffer(a), ctrl[ARRAYS + 3 * a + 1], ctrl[ARRAYS + 3 * a + 2]);
  }

  let build = -1;
  let hist = new Float64Array(0);
  let rows = new Int32Array(0);
  let bins = new Uint8Array(0);
  let offsets = new Int32Array(0);
  let features = new Int32Array(0);

  function defaultRunner(b: number): void {
    const start = ctrl[START];
    const end = ctrl[END];
    const id = ctrl[BUILD_ID];
    if (id !== build) {
      hist = view(A_HIST, Float64Array);
      rows = view(A_ROWS, Int32Array);
      bins = view(A_BINS, Uint8Array);
      offsets = view(A_OFFSETS, Int32Array);
      features = view(A_FEATURES, Int32Array);
      const n = end - start;
      if (gOrd.length < n) {
        gOrd = new Float64Array(n);
        hOrd = new Float64Array(n);
      }
      gatherGradients(rows, start, end, view(A_G, Float64Array), view(A_H, Float64Array), gOrd, hOrd);
      build = id;
    }
    const from = ctrl[BOUNDS + b];
    const to = ctrl[BOUNDS + b + 1];
    if (ctrl[ZERO_OWN] === 1) {
      for (let fi = from; fi < to; fi++) {
        const f = features[fi];
        hist.fill(0, 2 * offsets[f], 2 * offsets[f + 1]);
      }
    }
    accumulateFeatures(hist, bins, ctrl[N_ROWS], offsets, features, from, to, rows, start, end, gOrd, hOrd);
  }

  const runBlock = makeRunner ? makeRunner(defaultRunner) : defaultRunner;
  process.on('exit', () => {
    if (Atomics.load(ctrl, STATUS) === 0) Atomics.store(ctrl, STATUS, STATUS_EXITED);
    Atomics.notify(ctrl, DONE);
  });

  // Only now is the module loaded: the pool counts the worker as started.
  parentPort?.postMessage({ type: 'ready' });
  try {
    for (;;) {
      if (Atomics.load(ctrl, STOP) === 1) break;
      const w = Atomics.load(ctrl, WORD);
      const blocks = wordBlocks(w);
      const next = wordNext(w);
      if (next < blocks) {
        if (Atomics.compareExchange(ctrl, WORD, w, w + 1) === w) {
          runBlock(next);
          Atomics.add(ctrl, HEARTBEAT, 1);
          if (Atomics.add(ctrl, DONE, 1) + 1 === blocks) Atomics.notify(ctrl, DONE);
        }
        continue;
      }
      Atomics.wait(ctrl, WORD, w);
      drain();
    }
  } catch (err) {
    Atomics.store(ctrl, STATUS, STATUS_FAILED);
    port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    Atomics.notify(ctrl, DONE);
  }
  port.close();
}
