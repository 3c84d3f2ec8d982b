// Evaluation metrics for classification (from class probabilities) and regression.
// Undefined values (AUC with one class present, R² of a constant target) are null, never NaN, so the
// metrics object survives JSON.
import { argmaxRows } from './predict.ts';
import type { Task } from './types.ts';

export function accuracy(yTrue: Int32Array, yPred: Int32Array): number {
  if (yTrue.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

/** Mean negative log-likelihood of the true class; probabilities clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(yTrue: Int32Array, proba: Float64Array, nClasses: number): number {
  const n = yTrue.length;
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(proba[i * nClasses + yTrue[i]], 1e-15), 1 - 1e-15);
    s -= Math.log(p);
  }
  return s / n;
}

/**
 * Area under the ROC curve for `positive` (1/0) against `score`: the Mann–Whitney statistic with tied
 * scores given their average rank. null when only one class is present.
 */
export function aucBinary(positive: Uint8Array | Int32Array, score: Float64Array): number | null {
  const n = positive.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let nPos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]] === score[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) {
        nPos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Binary: AUC of class 1. Multiclass: unweighted mean of one-vs-rest AUCs over classes present. */
export function auc(yTrue: Int32Array, proba: Float64Array, nClasses: number): number | null {
  const n = yTrue.length;
  const score = new Float64Array(n);
  const pos = new Uint8Array(n);
  const one = (k: number): number | null => {
    for (let i = 0; i < n; i++) {
      score[i] = proba[i * nClasses + k];
      pos[i] = yTrue[i] === k ? 1 : 0;
    }
    return aucBinary(pos, score);
  };
  if (nClasses === 2) return one(1);
  let s = 0;
  let m = 0;
  for (let k = 0; k < nClasses; k++) {
    const a = one(k);
    if (a !== null) {
      s += a;
      m++;
    }
  }
  return m > 0 ? s / m : null;
}

/** counts[t][p]: rows of true class t predicted as p. */
export function confusionMatrix(yTrue: Int32Array, yPred: Int32Array, nClasses: number): number[][] {
  const m = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

function f1Of(cm: number[][], k: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let t = 0; t < cm.length; t++) {
    for (let p = 0; p < cm.length; p++) {
      if (t === k && p === k) tp += cm[t][p];
      else if (p === k) fp += cm[t][p];
      else if (t === k) fn += cm[t][p];
    }
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/** Binary: F1 of class 1. Multiclass: macro average over all classes. */
export function f1(yTrue: Int32Array, yPred: Int32Array, nClasses: number): number {
  const cm = confusionMatrix(yTrue, yPred, nClasses);
  if (nClasses === 2) return f1Of(cm, 1);
  let s = 0;
  for (let k = 0; k < nClasses; k++) s += f1Of(cm, k);
  return s / nClasses;
}

/**
 * Expected calibration error of the top-class confidence, over `bins` equal-width bins of (0, 1]:
 * Σ_b (n_b / n) · |accuracy_b − mean confidence_b|.
 */
export function expectedCalibrationError(
  yTrue: Int32Array,
  proba: Float64Array,
  nClasses: number,
  bins = 10,
): number {
  const n = yTrue.length;
  if (n === 0) return 0;
  const cnt = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const hit = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < nClasses; k++) if (proba[i * nClasses + k] > proba[i * nClasses + best]) best = k;
    const c = proba[i * nClasses + best];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    cnt[b]++;
    conf[b] += c;
    if (best === yTrue[i]) hit[b]++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b] > 0) e += Math.abs(hit[b] - conf[b]) / n;
  return e;
}

export function rmse(yTrue: Float64Array, yPred: Float64Array): number {
  if (yTrue.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i] - yPred[i]) ** 2;
  return Math.sqrt(s / yTrue.length);
}

export function mae(yTrue: Float64Array, yPred: Float64Array): number {
  if (yTrue.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += Math.abs(yTrue[i] - yPred[i]);
  return s / yTrue.length;
}

/** 1 − SS_res / SS_tot; null when the target is constant. */
export function r2(yTrue: Float64Array, yPred: Float64Array): number | null {
  const n = yTrue.length;
  if (n === 0) return null;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i] / n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    ssRes += (yTrue[i] - yPred[i]) ** 2;
    ssTot += (yTrue[i] - mean) ** 2;
  }
  return ssTot === 0 ? null : 1 - ssRes / ssTot;
}

export interface ClassificationMetrics {
  task: 'binary' | 'multiclass';
  n: number;
  accuracy: number;
  logLoss: number;
  auc: number | null;
  f1: number;
  ece: number;
  confusion: number[][];
}

export interface RegressionMetrics {
  task: 'regression';
  n: number;
  rmse: number;
  mae: number;
  r2: number | null;
}

export type Metrics = ClassificationMetrics | RegressionMetrics;

/**
 * Classification: `yTrue` class indices and `pred` probabilities n × nClasses (binary: 2 columns).
 * Regression: `yTrue` values and `pred` the predicted values. `nClasses` defaults to pred.length / n.
 */
export function evaluate(
  task: Task,
  yTrue: Int32Array | Float64Array,
  pred: Float64Array,
  nClasses?: number,
): Metrics {
  const n = yTrue.length;
  if (task === 'regression') {
    const yt = Float64Array.from(yTrue);
    return { task, n, rmse: rmse(yt, pred), mae: mae(yt, pred), r2: r2(yt, pred) };
  }
  // Multiclass without nClasses: the width of the probability matrix.
  const C = task === 'binary' ? 2 : (nClasses ?? (n > 0 ? pred.length / n : 0));
  if (pred.length !== n * C) throw new Error(`expected ${n} × ${C} probabilities`);
  const yt = yTrue instanceof Int32Array ? yTrue : Int32Array.from(yTrue);
  const yPred = argmaxRows(pred, n, C);
  return {
    task,
    n,
    accuracy: accuracy(yt, yPred),
    logLoss: logLoss(yt, pred, C),
    auc: auc(yt, pred, C),
    f1: f1(yt, yPred, C),
    ece: expectedCalibrationError(yt, pred, C),
    confusion: confusionMatrix(yt, yPred, C),
  };
}
