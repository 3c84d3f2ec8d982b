// Where histograms are built. Training stays pure: threads are an execution resource injected by the
// caller (src/runtime/threads/ implements one over worker threads); the default builds inline.
import type { BinnedMatrix } from './binning.ts';
import { buildHistogram } from './histogram.ts';

export interface HistogramPool {
  /**
   * Backing memory for every array that build() reads or writes (the binned matrix, gradients, row
   * indices, histograms): a SharedArrayBuffer when other threads must see it.
   */
  allocate(bytes: number): ArrayBuffer | SharedArrayBuffer;
  /**
   * The histogram of rows[start..end) over `features`, with exactly buildHistogram's contract and
   * result, bit for bit (so a model does not depend on the pool that trained it). gOrd/hOrd are the
   * calling thread's scratch.
   */
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
  ): void;
  /** Called once when a training no longer needs the arrays it allocated (also after an error). */
  release(): void;
}

/** Today's single-threaded path: plain memory, histograms built on the calling thread. */
export const inlineHistogramPool: HistogramPool = Object.freeze({
  allocate: (bytes: number): ArrayBuffer => new ArrayBuffer(bytes),
  build: buildHistogram,
  release: (): void => {},
});
