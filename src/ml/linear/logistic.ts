// Logistic regression: binary (one sigmoid output) and multinomial (softmax over the classes), L2 with
// sklearn's `C` (penalty ½‖W‖²/C against the summed loss), class weights, warm start and a prior.
import type { LinearModel, Matrix } from '../types.ts';
import { lbfgs } from './lbfgs.ts';
import { createObjective, parameterCount, transpose } from './objective.ts';

export interface FitControl {
  /** Largest gradient component at convergence (of the loss divided by n; default 1e-6). */
  tol?: number;
  /** Relative loss change at convergence (default 1e-10). */
  lossTol?: number;
  maxIterations?: number;
  onIteration?: (iteration: number, loss: number) => void;
}

/** Start (warm start) or anchor (prior) weights: K × d row-major, and K intercepts. */
export interface LinearParams {
  weights: Float64Array;
  intercepts: Float64Array;
}

export interface LogisticOptions extends FitControl {
  /** Inverse regularisation strength, as in scikit-learn (default 1). */
  C?: number;
  /** 'balanced' weighs class k by n / (K · n_k); an array gives one weight per class index. */
  classWeight?: 'balanced' | ArrayLike<number> | null;
  sampleWeight?: Float64Array;
  /** Warm start: the optimisation begins here instead of at zero. */
  init?: LinearParams;
  /** Adds λ‖W − W_prior‖² to the objective: pulls the fit toward a base model's weights. */
  prior?: { weights: Float64Array; lambda: number };
}

export interface FitInfo {
  iterations: number;
  converged: boolean;
  loss: number;
  reason: string;
}

export interface LinearFit {
  model: LinearModel;
  info: FitInfo;
}

/** Per-row weights combining sample weights and class weights; null when all are 1. */
export function rowWeights(
  y: Int32Array,
  nClasses: number,
  classWeight: LogisticOptions['classWeight'],
  sampleWeight?: Float64Array,
): Float64Array | null {
  if (!classWeight && !sampleWeight) return null;
  let cw: Float64Array | null = null;
  if (classWeight === 'balanced') {
    const counts = new Float64Array(nClasses);
    for (let i = 0; i < y.length; i++) counts[y[i]]++;
    cw = new Float64Array(nClasses);
    for (let k = 0; k < nClasses; k++) cw[k] = counts[k] > 0 ? y.length / (nClasses * counts[k]) : 0;
  } else if (classWeight) {
    if (classWeight.length !== nClasses) throw new Error(`classWeight needs ${nClasses} entries`);
    cw = Float64Array.from(classWeight);
  }
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = (cw ? cw[y[i]] : 1) * (sampleWeight ? sampleWeight[i] : 1);
  return out;
}

export function fitLogistic(
  X: Matrix,
  y: Int32Array,
  nClasses: number,
  opts: LogisticOptions = {},
): LinearFit {
  if (y.length !== X.rows) throw new Error('y must have one entry per row of X');
  if (nClasses < 2) throw new Error('logistic regression needs at least 2 classes');
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0 || y[i] >= nClasses) throw new Error(`class index out of range at row ${i}`);
  }
  const C = opts.C ?? 1;
  if (!(C > 0)) throw new Error('C must be positive');
  const binary = nClasses === 2;
  const K = binary ? 1 : nClasses;
  const d = X.cols;
  const sw = rowWeights(y, nClasses, opts.classWeight, opts.sampleWeight);
  const yValue = binary ? Float64Array.from(y) : undefined;
  // Sparse multinomial problems optimise W as d × K (see Problem.featureMajor) and transpose back.
  const featureMajor = X.kind === 'csr' && K > 1;
  const layout = (w: Float64Array): Float64Array => (featureMajor ? transpose(w, K, d) : w);
  const f = createObjective({
    X,
    loss: binary ? 'logistic' : 'softmax',
    K,
    yClass: binary ? undefined : y,
    yValue,
    sampleWeight: sw,
    l2: 1 / C,
    prior: opts.prior ? layout(opts.prior.weights) : undefined,
    priorLambda: opts.prior?.lambda,
    featureMajor,
  });
  const x0 = new Float64Array(parameterCount({ X, K }));
  if (opts.init) {
    if (opts.init.weights.length !== K * d || opts.init.intercepts.length !== K) {
      throw new Error('init has the wrong shape');
    }
    x0.set(layout(opts.init.weights));
    x0.set(opts.init.intercepts, K * d);
  } else {
    // Start the intercepts at the (weighted) log class frequencies: the optimum when W = 0.
    const freq = new Float64Array(nClasses);
    let tot = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = sw ? sw[i] : 1;
      freq[y[i]] += wi;
      tot += wi;
    }
    const eps = 1e-3 * Math.max(tot, 1);
    if (binary) x0[K * d] = Math.log((freq[1] + eps) / (freq[0] + eps));
    else {
      let mean = 0;
      for (let k = 0; k < K; k++) mean += Math.log(freq[k] + eps) / K;
      for (let k = 0; k < K; k++) x0[K * d + k] = Math.log(freq[k] + eps) - mean;
    }
  }
  const res = lbfgs(f, x0, {
    gradTol: opts.tol,
    lossTol: opts.lossTol,
    maxIterations: opts.maxIterations,
    onIteration: opts.onIteration,
  });
  return {
    model: {
      kind: 'linear',
      task: binary ? 'binary' : 'multiclass',
      nFeatures: d,
      nOutputs: K,
      weights: featureMajor ? transpose(res.x.subarray(0, K * d), d, K) : res.x.slice(0, K * d),
      intercepts: res.x.slice(K * d),
    },
    info: { iterations: res.iterations, converged: res.converged, loss: res.loss, reason: res.reason },
  };
}
