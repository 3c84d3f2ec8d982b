// The penalised loss of a linear model with K outputs, and its gradient, over dense or CSR input.
// Parameters are laid out [W (K × d, row-major; or d × K, see featureMajor), b (K)]; the intercepts b are
// never penalised.
//
//   F(W, b) = (1/n) · [ Σ_i s_i · ℓ(y_i, W x_i + b) + (l2 / 2) ‖W‖² + λ ‖W − W_prior‖² ]
//
// ℓ is the logistic loss (K = 1, y ∈ {0, 1}), the multinomial cross-entropy (K classes) or half the
// squared error (K = 1). Dividing by n keeps the loss O(1) for the tolerances; it does not move the optimum.
import type { Matrix } from '../types.ts';
import type { Objective } from './lbfgs.ts';

export type LossKind = 'logistic' | 'softmax' | 'squared';

export interface Problem {
  X: Matrix;
  loss: LossKind;
  /** Outputs: 1 for logistic and squared, the number of classes for softmax. */
  K: number;
  /** Class index per row (softmax). */
  yClass?: Int32Array;
  /** 0/1 per row (logistic) or the value (squared). */
  yValue?: Float64Array;
  sampleWeight?: Float64Array | null;
  /** Coefficient of ½‖W‖² (1/C for logistic regression, alpha for ridge). */
  l2: number;
  prior?: Float64Array | null;
  priorLambda?: number;
  /**
   * Lay W out d × K (feature-major) instead of K × d: with sparse rows and several outputs, the K weights
   * of one feature are then adjacent, so each stored entry touches one cache line instead of K.
   * `prior` must use the same layout.
   */
  featureMajor?: boolean;
}

/** Transposes a rows × cols row-major matrix. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

export function parameterCount(p: Pick<Problem, 'X' | 'K'>): number {
  return p.K * p.X.cols + p.K;
}

export function createObjective(p: Problem): Objective {
  const { X, K, loss: kind, l2 } = p;
  const n = X.rows;
  const d = X.cols;
  const nW = K * d;
  const sw = p.sampleWeight ?? null;
  const prior = p.prior ?? null;
  const lambda = p.priorLambda ?? 0;
  const featureMajor = p.featureMajor === true && X.kind === 'csr';
  const yClass = p.yClass ?? new Int32Array(0);
  const yValue = p.yValue ?? new Float64Array(0);
  if (kind === 'softmax' && yClass.length !== n) throw new Error('softmax needs a class per row');
  if (kind !== 'softmax' && yValue.length !== n)
    throw new Error('logistic and squared losses need a value per row');
  const z = new Float64Array(K);
  const r = new Float64Array(K);
  const dense = X.kind === 'dense' ? X.data : null;
  const indptr = X.kind === 'csr' ? X.indptr : new Int32Array(0);
  const indices = X.kind === 'csr' ? X.indices : new Int32Array(0);
  const values = X.kind === 'csr' ? X.values : new Float64Array(0);
  const invN = n > 0 ? 1 / n : 0;

  return (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    const total = dense && K === 1 ? rowsSingleDense(kind, dense, n, d, yValue, sw, w, g) : rowsGeneral(w, g);
    return penalise(w, g, total);
  };

  function rowsGeneral(w: Float64Array, g: Float64Array): number {
    let total = 0;
    for (let i = 0; i < n; i++) {
      // Scores z = W x_i + b.
      for (let k = 0; k < K; k++) z[k] = w[nW + k];
      if (dense) {
        const base = i * d;
        for (let k = 0; k < K; k++) {
          const kb = k * d;
          let s = 0;
          for (let j = 0; j < d; j++) s += w[kb + j] * dense[base + j];
          z[k] += s;
        }
      } else if (featureMajor) {
        for (let q = indptr[i]; q < indptr[i + 1]; q++) {
          const jb = indices[q] * K;
          const v = values[q];
          for (let k = 0; k < K; k++) z[k] += w[jb + k] * v;
        }
      } else {
        const a = indptr[i];
        const e = indptr[i + 1];
        for (let k = 0; k < K; k++) {
          const kb = k * d;
          let s = 0;
          for (let q = a; q < e; q++) s += w[kb + indices[q]] * values[q];
          z[k] += s;
        }
      }
      const si = sw ? sw[i] : 1;
      if (si === 0) continue;
      // Loss of row i and the residuals r = s_i · ∂ℓ/∂z.
      if (kind === 'logistic') {
        const zi = z[0];
        const yi = yValue[i];
        const softplus = zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi));
        total += si * (softplus - yi * zi);
        const pr = zi >= 0 ? 1 / (1 + Math.exp(-zi)) : Math.exp(zi) / (1 + Math.exp(zi));
        r[0] = si * (pr - yi);
      } else if (kind === 'softmax') {
        let mx = z[0];
        for (let k = 1; k < K; k++) if (z[k] > mx) mx = z[k];
        let se = 0;
        for (let k = 0; k < K; k++) {
          r[k] = Math.exp(z[k] - mx);
          se += r[k];
        }
        const yi = yClass[i];
        total += si * (mx + Math.log(se) - z[yi]);
        const inv = si / se;
        for (let k = 0; k < K; k++) r[k] *= inv;
        r[yi] -= si;
      } else {
        const diff = z[0] - yValue[i];
        total += 0.5 * si * diff * diff;
        r[0] = si * diff;
      }
      // Gradient: ∂F/∂W_k += r_k x_i, ∂F/∂b_k += r_k.
      if (dense) {
        const base = i * d;
        for (let k = 0; k < K; k++) {
          const rk = r[k];
          if (rk === 0) continue;
          const kb = k * d;
          for (let j = 0; j < d; j++) g[kb + j] += rk * dense[base + j];
          g[nW + k] += rk;
        }
      } else if (featureMajor) {
        for (let q = indptr[i]; q < indptr[i + 1]; q++) {
          const jb = indices[q] * K;
          const v = values[q];
          for (let k = 0; k < K; k++) g[jb + k] += r[k] * v;
        }
        for (let k = 0; k < K; k++) g[nW + k] += r[k];
      } else {
        const a = indptr[i];
        const e = indptr[i + 1];
        for (let k = 0; k < K; k++) {
          const rk = r[k];
          if (rk === 0) continue;
          const kb = k * d;
          for (let q = a; q < e; q++) g[kb + indices[q]] += rk * values[q];
          g[nW + k] += rk;
        }
      }
    }
    return total;
  }

  function penalise(w: Float64Array, g: Float64Array, total: number): number {
    let pen = 0;
    for (let t = 0; t < nW; t++) {
      const wt = w[t];
      pen += 0.5 * l2 * wt * wt;
      g[t] += l2 * wt;
    }
    if (prior && lambda > 0) {
      for (let t = 0; t < nW; t++) {
        const dt = w[t] - prior[t];
        pen += lambda * dt * dt;
        g[t] += 2 * lambda * dt;
      }
    }
    for (let t = 0; t < g.length; t++) g[t] *= invN;
    return (total + pen) * invN;
  }
}

/** The common case, one output over dense rows, without the per-output loops. Returns the summed loss. */
function rowsSingleDense(
  kind: LossKind,
  X: Float64Array,
  n: number,
  d: number,
  y: Float64Array,
  sw: Float64Array | null,
  w: Float64Array,
  g: Float64Array,
): number {
  const logistic = kind === 'logistic';
  let total = 0;
  let gb = 0;
  for (let i = 0; i < n; i++) {
    const base = i * d;
    let z = w[d];
    for (let j = 0; j < d; j++) z += w[j] * X[base + j];
    const si = sw === null ? 1 : sw[i];
    const yi = y[i];
    let r: number;
    if (logistic) {
      const ez = Math.exp(-Math.abs(z));
      total += si * (Math.max(z, 0) + Math.log1p(ez) - yi * z);
      r = si * ((z >= 0 ? 1 / (1 + ez) : ez / (1 + ez)) - yi);
    } else {
      const diff = z - yi;
      total += 0.5 * si * diff * diff;
      r = si * diff;
    }
    if (r === 0) continue;
    for (let j = 0; j < d; j++) g[j] += r * X[base + j];
    gb += r;
  }
  g[d] += gb;
  return total;
}
