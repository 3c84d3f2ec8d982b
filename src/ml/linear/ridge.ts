// Ridge regression: ½Σ s_i (y_i − w·x_i − b)² + ½α‖w‖² + λ‖w − w_prior‖², the intercept unpenalised.
// `alpha` matches scikit-learn's Ridge. Few features: closed form by Cholesky on the centred normal
// equations; many features (or a warm start): L-BFGS on the same objective.
import type { LinearModel, Matrix } from '../types.ts';
import { lbfgs } from './lbfgs.ts';
import type { FitControl, LinearFit, LinearParams } from './logistic.ts';
import { createObjective, parameterCount } from './objective.ts';

/** Up to this many features the d × d normal equations are formed and solved directly. */
export const RIDGE_CLOSED_FORM_MAX_FEATURES = 400;

export interface RidgeOptions extends FitControl {
  alpha?: number;
  sampleWeight?: Float64Array;
  init?: LinearParams;
  prior?: { weights: Float64Array; lambda: number };
  solver?: 'auto' | 'cholesky' | 'lbfgs';
}

export function fitRidge(
  X: Matrix,
  y: Float64Array,
  opts: RidgeOptions = {},
): LinearFit & { solver: string } {
  if (y.length !== X.rows) throw new Error('y must have one entry per row of X');
  const alpha = opts.alpha ?? 1;
  if (!(alpha >= 0)) throw new Error('alpha must be non-negative');
  const solver =
    opts.solver && opts.solver !== 'auto'
      ? opts.solver
      : X.cols <= RIDGE_CLOSED_FORM_MAX_FEATURES && !opts.init
        ? 'cholesky'
        : 'lbfgs';
  if (solver === 'cholesky') {
    const closed = closedForm(X, y, alpha, opts);
    if (closed) return { ...closed, solver };
  }
  return { ...iterative(X, y, alpha, opts), solver: 'lbfgs' };
}

function iterative(X: Matrix, y: Float64Array, alpha: number, opts: RidgeOptions): LinearFit {
  const d = X.cols;
  const f = createObjective({
    X,
    loss: 'squared',
    K: 1,
    yValue: y,
    sampleWeight: opts.sampleWeight,
    l2: alpha,
    prior: opts.prior?.weights,
    priorLambda: opts.prior?.lambda,
  });
  const x0 = new Float64Array(parameterCount({ X, K: 1 }));
  if (opts.init) {
    x0.set(opts.init.weights);
    x0[d] = opts.init.intercepts[0];
  } else {
    let s = 0;
    let t = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = opts.sampleWeight ? opts.sampleWeight[i] : 1;
      s += wi * y[i];
      t += wi;
    }
    x0[d] = t > 0 ? s / t : 0;
  }
  const res = lbfgs(f, x0, {
    gradTol: opts.tol,
    lossTol: opts.lossTol,
    maxIterations: opts.maxIterations,
    onIteration: opts.onIteration,
  });
  return {
    model: model(d, res.x.slice(0, d), res.x[d]),
    info: { iterations: res.iterations, converged: res.converged, loss: res.loss, reason: res.reason },
  };
}

function model(d: number, w: Float64Array, b: number): LinearModel {
  return {
    kind: 'linear',
    task: 'regression',
    nFeatures: d,
    nOutputs: 1,
    weights: w,
    intercepts: Float64Array.of(b),
  };
}

/** Solves (Xcᵀ S Xc + (α + 2λ) I) w = Xcᵀ S yc + 2λ w_prior; null when the system is not positive definite. */
function closedForm(X: Matrix, y: Float64Array, alpha: number, opts: RidgeOptions): LinearFit | null {
  const n = X.rows;
  const d = X.cols;
  const sw = opts.sampleWeight;
  let wsum = 0;
  let ybar = 0;
  const xbar = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = sw ? sw[i] : 1;
    wsum += wi;
    ybar += wi * y[i];
    if (X.kind === 'dense') {
      const base = i * d;
      for (let j = 0; j < d; j++) xbar[j] += wi * X.data[base + j];
    } else {
      for (let q = X.indptr[i]; q < X.indptr[i + 1]; q++) xbar[X.indices[q]] += wi * X.values[q];
    }
  }
  if (wsum <= 0) return null;
  ybar /= wsum;
  for (let j = 0; j < d; j++) xbar[j] /= wsum;

  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  if (X.kind === 'dense') {
    // Centring explicitly keeps precision when a column's mean is large against its spread.
    const row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const wi = sw ? sw[i] : 1;
      if (wi === 0) continue;
      const base = i * d;
      for (let j = 0; j < d; j++) row[j] = X.data[base + j] - xbar[j];
      const yc = wi * (y[i] - ybar);
      for (let j = 0; j < d; j++) {
        const v = wi * row[j];
        if (v === 0) continue;
        rhs[j] += row[j] * yc;
        const aj = j * d;
        for (let k = j; k < d; k++) A[aj + k] += v * row[k];
      }
    }
  } else {
    // Sparse: Σ s x xᵀ − W x̄ x̄ᵀ, and Σ s x (y − ȳ) − 0 (the centred y sums to zero).
    for (let i = 0; i < n; i++) {
      const wi = sw ? sw[i] : 1;
      if (wi === 0) continue;
      const a = X.indptr[i];
      const e = X.indptr[i + 1];
      const yc = wi * (y[i] - ybar);
      for (let p = a; p < e; p++) {
        const j = X.indices[p];
        const v = wi * X.values[p];
        rhs[j] += X.values[p] * yc;
        for (let q = a; q < e; q++) {
          const k = X.indices[q];
          if (k >= j) A[j * d + k] += v * X.values[q];
        }
      }
    }
    for (let j = 0; j < d; j++) for (let k = j; k < d; k++) A[j * d + k] -= wsum * xbar[j] * xbar[k];
  }
  const lambda = opts.prior?.lambda ?? 0;
  const ridge = alpha + 2 * lambda;
  for (let j = 0; j < d; j++) {
    A[j * d + j] += ridge;
    if (lambda > 0 && opts.prior) rhs[j] += 2 * lambda * opts.prior.weights[j];
    for (let k = 0; k < j; k++) A[j * d + k] = A[k * d + j];
  }
  const w = choleskySolve(A, rhs, d);
  if (!w) return null;
  let b = ybar;
  for (let j = 0; j < d; j++) b -= xbar[j] * w[j];
  // Report the same (per-row) objective the iterative solver minimises.
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let z = b;
    if (X.kind === 'dense') for (let j = 0; j < d; j++) z += w[j] * X.data[i * d + j];
    else for (let q = X.indptr[i]; q < X.indptr[i + 1]; q++) z += w[X.indices[q]] * X.values[q];
    loss += 0.5 * (sw ? sw[i] : 1) * (z - y[i]) ** 2;
  }
  for (let j = 0; j < d; j++) {
    loss += 0.5 * alpha * w[j] * w[j];
    if (lambda > 0 && opts.prior) loss += lambda * (w[j] - opts.prior.weights[j]) ** 2;
  }
  return {
    model: model(d, w, b),
    info: { iterations: 1, converged: true, loss: n > 0 ? loss / n : 0, reason: 'closed-form' },
  };
}

/** In-place Cholesky (lower triangle) and the two triangular solves; null when A is not positive definite. */
export function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array | null {
  const L = A;
  let scale = 0;
  for (let j = 0; j < d; j++) scale = Math.max(scale, Math.abs(A[j * d + j]));
  const floor = 1e-13 * Math.max(scale, 1e-300);
  for (let j = 0; j < d; j++) {
    let s = L[j * d + j];
    for (let k = 0; k < j; k++) s -= L[j * d + k] * L[j * d + k];
    if (!(s > floor)) return null;
    const ljj = Math.sqrt(s);
    L[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = L[i * d + j];
      for (let k = 0; k < j; k++) t -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = t / ljj;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < d; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * x[k];
    x[i] = s / L[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
    x[i] = s / L[i * d + i];
  }
  return x;
}
