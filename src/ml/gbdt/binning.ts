// Quantile binning: every feature becomes at most 255 value bins plus one bin for missing values,
// stored as one byte per cell, column-major so that a histogram pass reads one contiguous column.
// Bin edges are float32 values and a value's bin is decided by comparing Math.fround(x) with them,
// exactly the comparison the predictor and ONNX Runtime make, so no training value can change side.
import type { Rng } from '../rng.ts';
import type { DenseMatrix } from '../types.ts';

export interface BinnedMatrix {
  rows: number;
  cols: number;
  /** bins[f * rows + r]; value bins are 0..nBins[f]-1, missing is nBins[f]. */
  bins: Uint8Array;
  /** Value bins per feature (the missing bin comes after them). */
  nBins: Int32Array;
  /** Histogram slot of feature f's bin 0; slots per feature = nBins[f] + 1. Length cols + 1. */
  offsets: Int32Array;
  /** cuts[f][b]: fround(x) < cuts[f][b] ⟺ bin(x) <= b. Length nBins[f] - 1, ascending. */
  cuts: Float32Array[];
}

/** A float32 cut c with a < c <= b for float32 a < b, so that `x < c` separates them. */
function cutBetween(a: number, b: number): number {
  const m = Math.fround(a + (b - a) / 2);
  return m > a ? m : b;
}

/** Bin edges of one feature from its sorted, finite float32 sample values. */
export function cutsFromSorted(sorted: Float32Array, maxBins: number): Float32Array {
  const n = sorted.length;
  if (n === 0) return new Float32Array(0);
  let distinct = 1;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const cuts: number[] = [];
  if (distinct <= maxBins) {
    for (let i = 1; i < n; i++)
      if (sorted[i] !== sorted[i - 1]) cuts.push(cutBetween(sorted[i - 1], sorted[i]));
    return Float32Array.from(cuts);
  }
  // Greedy equal-frequency bins over runs of equal values; the target is recomputed after each cut
  // so that a heavy value taking a whole bin does not starve the later ones.
  let binsLeft = maxBins;
  let target = n / binsLeft;
  let inBin = 0;
  let i = 0;
  while (i < n && binsLeft > 1) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    inBin += j - i;
    if (j >= n) break;
    let k = j + 1;
    while (k < n && sorted[k] === sorted[j]) k++;
    // Cut here when the bin is full, or when the next run would overfill it by more than half.
    if (inBin >= target || inBin + (k - j) / 2 > target) {
      cuts.push(cutBetween(sorted[i], sorted[j]));
      binsLeft--;
      target = (n - j) / binsLeft;
      inBin = 0;
    }
    i = j;
  }
  return Float32Array.from(cuts);
}

/** The bin of float32 value x (not NaN): how many cuts are <= x. */
export function binOf(cuts: Float32Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x >= cuts[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Sorts finite float32 values in place (LSD radix sort, 3 passes of 11 bits over order-preserving
 * keys): several times faster than TypedArray#sort for the 100k-row samples that binning sorts.
 */
export function radixSortFloat32(values: Float32Array, keys: Uint32Array, tmp: Uint32Array): Float32Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let src = keys;
  let dst = tmp;
  for (let i = 0; i < n; i++) {
    const u = bits[i];
    // Negative floats: flip all bits; positive: flip the sign bit. Unsigned order = float order.
    src[i] = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
  }
  const count = new Int32Array(2048);
  for (let shift = 0; shift < 33; shift += 11) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(src[i] >>> shift) & 2047]++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = src[i];
      dst[count[(k >>> shift) & 2047]++] = k;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) {
    const k = src[i];
    bits[i] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  }
  return values;
}

/**
 * Places bin edges on a seeded row sample, then bins every cell of X. `allocate` provides the memory
 * of the bins and offsets (shared memory when other threads build histograms).
 */
export function binMatrix(
  X: DenseMatrix,
  maxBins: number,
  sampleSize: number,
  rng: Rng,
  allocate: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes),
): BinnedMatrix {
  const { rows, cols, data } = X;
  let sample: Int32Array | null = null;
  if (rows > sampleSize) {
    // Selection sampling keeps the rows in ascending order (cache-friendly reads below).
    sample = new Int32Array(sampleSize);
    let need = sampleSize;
    let k = 0;
    for (let r = 0; r < rows && need > 0; r++) {
      if (rng.next() * (rows - r) < need) {
        sample[k++] = r;
        need--;
      }
    }
  }
  const m = sample ? sample.length : rows;
  // One row-major pass copies the sample column-major (float32), so X is streamed once, not per feature.
  const colBuf = new Float32Array(m * cols);
  const counts = new Int32Array(cols);
  for (let i = 0; i < m; i++) {
    const o = (sample ? sample[i] : i) * cols;
    for (let f = 0; f < cols; f++) {
      const v = data[o + f];
      if (!Number.isNaN(v)) colBuf[f * m + counts[f]++] = v;
    }
  }
  const keys = new Uint32Array(m);
  const tmp = new Uint32Array(m);
  const cuts: Float32Array[] = [];
  const nBins = new Int32Array(cols);
  const offsets = new Int32Array(allocate(4 * (cols + 1)));
  for (let f = 0; f < cols; f++) {
    const sorted = radixSortFloat32(colBuf.subarray(f * m, f * m + counts[f]), keys, tmp);
    const fc = cutsFromSorted(sorted, maxBins);
    cuts.push(fc);
    nBins[f] = fc.length + 1;
    offsets[f + 1] = offsets[f] + nBins[f] + 1;
  }
  const bins = new Uint8Array(allocate(rows * cols));
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let f = 0; f < cols; f++) {
      const v = data[o + f];
      bins[f * rows + r] = Number.isNaN(v) ? nBins[f] : binOf(cuts[f], Math.fround(v));
    }
  }
  return { rows, cols, bins, nBins, offsets, cuts };
}

/** The float32 threshold of a split that sends bins 0..bin left (+Infinity: all values left). */
export function thresholdOf(binned: BinnedMatrix, feature: number, bin: number): number {
  const fc = binned.cuts[feature];
  return bin < fc.length ? fc[bin] : Number.POSITIVE_INFINITY;
}
