// Gradient/hessian histograms over binned columns. A histogram holds, for each feature's slots
// (value bins then the missing bin), the pair (sum g, sum h) at [2·slot, 2·slot + 1].
import type { BinnedMatrix } from './binning.ts';

export function histogramSize(binned: BinnedMatrix): number {
  return 2 * binned.offsets[binned.cols];
}

/**
 * Sums g and h of rows[start..end) into `hist` for the given features (other features' slots are
 * left as zero). gOrd/hOrd are scratch of at least end - start: gathering the node's gradients once
 * makes the per-feature loop read them sequentially.
 */
export function buildHistogram(
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
  hist.fill(0);
  gatherGradients(rows, start, end, g, h, gOrd, hOrd);
  accumulateFeatures(
    hist,
    binned.bins,
    binned.rows,
    binned.offsets,
    features,
    0,
    features.length,
    rows,
    start,
    end,
    gOrd,
    hOrd,
  );
}

/** gOrd[i], hOrd[i] = g, h of rows[start + i]. */
export function gatherGradients(
  rows: Int32Array,
  start: number,
  end: number,
  g: Float64Array,
  h: Float64Array,
  gOrd: Float64Array,
  hOrd: Float64Array,
): void {
  const n = end - start;
  for (let i = 0; i < n; i++) {
    const r = rows[start + i];
    gOrd[i] = g[r];
    hOrd[i] = h[r];
  }
}

/**
 * Adds the gathered gradients of rows[start..end) into the slots of features[from..to), which must
 * be zero. Each slot receives its rows in ascending position order whatever the feature range, so
 * any division of the features between threads gives the same sums bit for bit.
 */
export function accumulateFeatures(
  hist: Float64Array,
  bins: Uint8Array,
  nRows: number,
  offsets: Int32Array,
  features: Int32Array,
  from: number,
  to: number,
  rows: Int32Array,
  start: number,
  end: number,
  gOrd: Float64Array,
  hOrd: Float64Array,
): void {
  const n = end - start;
  // Eight features per pass over the rows: the row index and its gradients are loaded once for all.
  const nf = to;
  let fi = from;
  for (; fi + 8 <= nf; fi += 8) {
    const b0 = features[fi + 0] * nRows;
    const o0 = 2 * offsets[features[fi + 0]];
    const b1 = features[fi + 1] * nRows;
    const o1 = 2 * offsets[features[fi + 1]];
    const b2 = features[fi + 2] * nRows;
    const o2 = 2 * offsets[features[fi + 2]];
    const b3 = features[fi + 3] * nRows;
    const o3 = 2 * offsets[features[fi + 3]];
    const b4 = features[fi + 4] * nRows;
    const o4 = 2 * offsets[features[fi + 4]];
    const b5 = features[fi + 5] * nRows;
    const o5 = 2 * offsets[features[fi + 5]];
    const b6 = features[fi + 6] * nRows;
    const o6 = 2 * offsets[features[fi + 6]];
    const b7 = features[fi + 7] * nRows;
    const o7 = 2 * offsets[features[fi + 7]];
    for (let i = 0; i < n; i++) {
      const r = rows[start + i];
      const gi = gOrd[i];
      const hi = hOrd[i];
      const s0 = o0 + (bins[b0 + r] << 1);
      hist[s0] += gi;
      hist[s0 + 1] += hi;
      const s1 = o1 + (bins[b1 + r] << 1);
      hist[s1] += gi;
      hist[s1 + 1] += hi;
      const s2 = o2 + (bins[b2 + r] << 1);
      hist[s2] += gi;
      hist[s2 + 1] += hi;
      const s3 = o3 + (bins[b3 + r] << 1);
      hist[s3] += gi;
      hist[s3 + 1] += hi;
      const s4 = o4 + (bins[b4 + r] << 1);
      hist[s4] += gi;
      hist[s4 + 1] += hi;
      const s5 = o5 + (bins[b5 + r] << 1);
      hist[s5] += gi;
      hist[s5 + 1] += hi;
      const s6 = o6 + (bins[b6 + r] << 1);
      hist[s6] += gi;
      hist[s6 + 1] += hi;
      const s7 = o7 + (bins[b7 + r] << 1);
      hist[s7] += gi;
      hist[s7 + 1] += hi;
    }
  }
  for (; fi + 4 <= nf; fi += 4) {
    const b0 = features[fi + 0] * nRows;
    const o0 = 2 * offsets[features[fi + 0]];
    const b1 = features[fi + 1] * nRows;
    const o1 = 2 * offsets[features[fi + 1]];
    const b2 = features[fi + 2] * nRows;
    const o2 = 2 * offsets[features[fi + 2]];
    const b3 = features[fi + 3] * nRows;
    const o3 = 2 * offsets[features[fi + 3]];
    for (let i = 0; i < n; i++) {
      const r = rows[start + i];
      const gi = gOrd[i];
      const hi = hOrd[i];
      const s0 = o0 + (bins[b0 + r] << 1);
      hist[s0] += gi;
      hist[s0 + 1] += hi;
      const s1 = o1 + (bins[b1 + r] << 1);
      hist[s1] += gi;
      hist[s1 + 1] += hi;
      const s2 = o2 + (bins[b2 + r] << 1);
      hist[s2] += gi;
      hist[s2 + 1] += hi;
      const s3 = o3 + (bins[b3 + r] << 1);
      hist[s3] += gi;
      hist[s3 + 1] += hi;
    }
  }
  for (; fi < nf; fi++) {
    const base = features[fi] * nRows;
    const o = 2 * offsets[features[fi]];
    for (let i = 0; i < n; i++) {
      const s = o + (bins[base + rows[start + i]] << 1);
      hist[s] += gOrd[i];
      hist[s + 1] += hOrd[i];
    }
  }
}

/** parent -= child, in place: the parent's buffer becomes the sibling's histogram. */
export function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let i = 0; i < parent.length; i++) parent[i] -= child[i];
}
