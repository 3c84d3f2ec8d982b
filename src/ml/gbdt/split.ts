// Best split of one node from its histogram: for every feature and bin boundary, both default
// directions for missing values are scored and the better one is learned.
import type { BinnedMatrix } from './binning.ts';

export interface SplitInfo {
  gain: number;
  feature: number;
  /** Bins 0..bin go left; bin === nBins[feature] - 1 means "all values left, missing right". */
  bin: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  gr: number;
  hr: number;
}

export function emptySplit(): SplitInfo {
  return { gain: 0, feature: -1, bin: -1, missingLeft: false, gl: 0, hl: 0, gr: 0, hr: 0 };
}

/**
 * Writes the best split of a node with sums (G, H) into `out` (feature -1 when none beats gamma).
 * Gain is XGBoost's: GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ), compared with gamma.
 */
export function findBestSplit(
  out: SplitInfo,
  hist: Float64Array,
  binned: BinnedMatrix,
  features: Int32Array,
  G: number,
  H: number,
  lambda: number,
  minChildWeight: number,
  gamma: number,
): void {
  const { nBins, offsets } = binned;
  const parentScore = (G * G) / (H + lambda);
  let best = Math.max(gamma, 1e-10);
  out.feature = -1;
  out.gain = 0;
  for (let fi = 0; fi < features.length; fi++) {
    const f = features[fi];
    const nb = nBins[f];
    const o = 2 * offsets[f];
    const mg = hist[o + 2 * nb];
    const mh = hist[o + 2 * nb + 1];
    const hasMissing = mh > 0;
    let gl = 0;
    let hl = 0;
    for (let b = 0; b < nb; b++) {
      gl += hist[o + 2 * b];
      hl += hist[o + 2 * b + 1];
      const last = b === nb - 1;
      // Missing values go right (for the last bin: the split "value vs missing").
      if (!last || hasMissing) {
        const hr = H - hl;
        if (hl >= minChildWeight && hr >= minChildWeight) {
          const gr = G - gl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (gain > best) {
            best = gain;
            out.feature = f;
            out.bin = b;
            // Without missing values in this node, NaN follows the heavier side at prediction time.
            out.missingLeft = !hasMissing && hl >= hr;
            out.gl = gl;
            out.hl = hl;
            out.gr = gr;
            out.hr = hr;
          }
        }
      }
      // Missing values go left.
      if (hasMissing && !last) {
        const gl2 = gl + mg;
        const hl2 = hl + mh;
        const hr = H - hl2;
        if (hl2 >= minChildWeight && hr >= minChildWeight) {
          const gr = G - gl2;
          const gain = (gl2 * gl2) / (hl2 + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (gain > best) {
            best = gain;
            out.feature = f;
            out.bin = b;
            out.missingLeft = true;
            out.gl = gl2;
            out.hl = hl2;
            out.gr = gr;
            out.hr = hr;
          }
        }
      }
    }
  }
  if (out.feature >= 0) out.gain = best;
}
