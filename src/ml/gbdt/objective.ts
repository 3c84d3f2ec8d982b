// Losses of the three tasks: gradients and hessians for boosting, the starting score, and the
// validation metric used for early stopping (log-loss, multiclass log-loss, RMSE; lower is better).
import type { Task } from '../types.ts';

const EPS = 1e-15;
const MIN_HESS = 1e-16;

/**
 * Fills g and h (class-major: g[k·n + r]) from the current raw scores (row-major n × K) and returns
 * the mean training loss of those scores.
 */
export function computeGradients(
  task: Task,
  K: number,
  scores: Float64Array,
  y: Float64Array,
  g: Float64Array,
  h: Float64Array,
  probs: Float64Array,
): number {
  const n = y.length;
  let loss = 0;
  if (task === 'regression') {
    for (let r = 0; r < n; r++) {
      const d = scores[r] - y[r];
      g[r] = d;
      h[r] = 1;
      loss += d * d;
    }
    return loss / n;
  }
  if (task === 'binary') {
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-scores[r]));
      const t = y[r];
      g[r] = p - t;
      const hh = p * (1 - p);
      h[r] = Math.max(hh, MIN_HESS);
      loss -= t > 0.5 ? Math.log(Math.max(p, EPS)) : Math.log(Math.max(1 - p, EPS));
    }
    return loss / n;
  }
  for (let r = 0; r < n; r++) {
    const o = r * K;
    let max = scores[o];
    for (let k = 1; k < K; k++) if (scores[o + k] > max) max = scores[o + k];
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(scores[o + k] - max);
      probs[k] = e;
      sum += e;
    }
    const t = y[r];
    for (let k = 0; k < K; k++) {
      const p = probs[k] / sum;
      const isT = k === t ? 1 : 0;
      g[k * n + r] = p - isT;
      const hh = p * (1 - p);
      h[k * n + r] = Math.max(hh, MIN_HESS);
      if (isT) loss -= Math.log(Math.max(p, EPS));
    }
  }
  return loss / n;
}

/** The constant raw score(s) before any tree: log-odds, log class priors, or the mean. Float32-exact. */
export function baseScore(task: Task, K: number, y: Float64Array): Float64Array {
  const n = y.length;
  const out = new Float64Array(K);
  if (task === 'regression') {
    let s = 0;
    for (let r = 0; r < n; r++) s += y[r];
    out[0] = s / n;
  } else if (task === 'binary') {
    let s = 0;
    for (let r = 0; r < n; r++) s += y[r];
    const p = Math.min(Math.max(s / n, 1e-6), 1 - 1e-6);
    out[0] = Math.log(p / (1 - p));
  } else {
    const counts = new Float64Array(K);
    for (let r = 0; r < n; r++) counts[y[r]]++;
    for (let k = 0; k < K; k++) out[k] = Math.log(Math.max(counts[k] / n, 1e-6));
  }
  for (let k = 0; k < K; k++) out[k] = Math.fround(out[k]);
  return out;
}

/** Validation metric of raw scores (n × K): binary log-loss, multiclass log-loss, or RMSE. */
export function validationMetric(task: Task, K: number, scores: Float64Array, y: Float64Array): number {
  const n = y.length;
  let loss = 0;
  if (task === 'regression') {
    for (let r = 0; r < n; r++) {
      const d = scores[r] - y[r];
      loss += d * d;
    }
    return Math.sqrt(loss / n);
  }
  if (task === 'binary') {
    for (let r = 0; r < n; r++) {
      const p = 1 / (1 + Math.exp(-scores[r]));
      loss -= y[r] > 0.5 ? Math.log(Math.max(p, EPS)) : Math.log(Math.max(1 - p, EPS));
    }
    return loss / n;
  }
  for (let r = 0; r < n; r++) {
    const o = r * K;
    let max = scores[o];
    for (let k = 1; k < K; k++) if (scores[o + k] > max) max = scores[o + k];
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(scores[o + k] - max);
    const p = Math.exp(scores[o + y[r]] - max) / sum;
    loss -= Math.log(Math.max(p, EPS));
  }
  return loss / n;
}
