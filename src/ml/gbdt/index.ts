// Histogram gradient-boosted trees: binary log-loss, multiclass softmax and squared error, with
// early stopping on a given validation set and continued training on top of an existing ensemble.
// Which rows that validation set is made of is the caller's choice (see stopping.ts).
import { AppError, invalid } from '../../core/errors.ts';
import { createRng, type Rng } from '../rng.ts';
import type { DenseMatrix, Task, Tree, TreeEnsemble } from '../types.ts';
import { binMatrix } from './binning.ts';
import { binnedLeaf, createWorkspace, growTree } from './grow.ts';
import { baseScore, computeGradients, validationMetric } from './objective.ts';
import { type GbdtParams, resolveGbdtParams } from './params.ts';
import { type HistogramPool, inlineHistogramPool } from './pool.ts';
import { addTreeScores, predictRaw } from './predict.ts';

export type { GbdtParams, GrowPolicy } from './params.ts';
export { DEFAULT_GBDT_PARAMS, resolveGbdtParams } from './params.ts';
export { type HistogramPool, inlineHistogramPool } from './pool.ts';
export { predictRaw, predictTrees } from './predict.ts';

export interface GbdtHistoryEntry {
  iteration: number;
  /** Mean training loss after this round (log-loss, multiclass log-loss or mean squared error). */
  trainLoss: number;
  /** Validation metric after this round (log-loss, multiclass log-loss or RMSE), null without a validation set. */
  validMetric: number | null;
}

export interface GbdtOptions {
  seed: number;
  valid?: { X: DenseMatrix; y: Float64Array };
  init?: TreeEnsemble;
  onIteration?: (iter: number, validMetric: number | null) => void;
  /** Where histograms are built (default: inline on this thread). The model is the same either way. */
  histogramPool?: HistogramPool;
}

export interface GbdtResult {
  model: TreeEnsemble;
  /**
   * Round (0-based, counting only the new rounds) with the best validation metric; the last round without
   * validation. −1 when continued training (`init`) with early stopping found no round better than the
   * base ensemble on the validation set: no tree is added.
   */
  bestIteration: number;
  history: GbdtHistoryEntry[];
  /** Validation metric before the first new round (the base score, or `init`'s predictions); null without validation. */
  initialValidMetric: number | null;
}

function checkLabels(task: Task, K: number, y: Float64Array, field: string): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const ok =
      task === 'regression'
        ? Number.isFinite(v)
        : task === 'binary'
          ? v === 0 || v === 1
          : Number.isInteger(v) && v >= 0 && v < K;
    if (!ok) {
      throw new AppError('validation_failed', `${field}: label at index ${i} is not valid for task ${task}`, {
        errors: [{ field, message: `not a valid ${task} label`, index: i }],
      });
    }
  }
}

/** Feature subset of one tree (sorted, so histogram passes walk columns in memory order). */
function sampleFeatures(cols: number, rate: number, rng: Rng, all: Int32Array): Int32Array {
  if (rate >= 1) return all;
  const k = Math.max(1, Math.round(rate * cols));
  const perm = rng.shuffle(Int32Array.from(all));
  return perm.subarray(0, k).sort();
}

export function trainGbdt(
  X: DenseMatrix,
  y: Float64Array,
  task: Task,
  nClasses: number,
  params: Partial<GbdtParams>,
  opts: GbdtOptions,
): GbdtResult {
  const p = resolveGbdtParams(params);
  const n = X.rows;
  if (n < 1 || X.cols < 1)
    throw new AppError('unprocessable', 'training needs at least one row and one feature');
  if (y.length !== n) throw invalid('y', `has ${y.length} labels for ${n} rows`);
  if (X.data.length !== n * X.cols) throw invalid('X', 'data length does not match rows × cols');
  if (task === 'multiclass' && !(Number.isInteger(nClasses) && nClasses >= 2)) {
    throw invalid('nClasses', 'multiclass needs at least 2 classes');
  }
  const K = task === 'multiclass' ? nClasses : 1;
  checkLabels(task, K, y, 'y');
  const valid = opts.valid;
  if (valid) {
    if (valid.X.cols !== X.cols) throw invalid('valid.X', `has ${valid.X.cols} features, expected ${X.cols}`);
    if (valid.y.length !== valid.X.rows) throw invalid('valid.y', 'length does not match valid.X rows');
    checkLabels(task, K, valid.y, 'valid.y');
  }
  const init = opts.init;
  if (init) {
    if (init.kind !== 'gbdt' || init.task !== task || init.nOutputs !== K || init.nFeatures !== X.cols) {
      throw invalid('init', 'the base model does not match this task, class count or feature count');
    }
  }

  const pool = opts.histogramPool ?? inlineHistogramPool;
  try {
    return boost(X, y, task, K, p, opts, pool);
  } finally {
    pool.release();
  }
}

function boost(
  X: DenseMatrix,
  y: Float64Array,
  task: Task,
  K: number,
  p: GbdtParams,
  opts: GbdtOptions,
  pool: HistogramPool,
): GbdtResult {
  const n = X.rows;
  const valid = opts.valid;
  const init = opts.init;
  const rng = createRng(opts.seed);
  const binned = binMatrix(X, p.maxBins, p.binSampleSize, rng, (bytes) => pool.allocate(bytes));
  const base = init ? Float64Array.from(init.baseScore) : baseScore(task, K, y);
  const scores = init ? predictRaw(init, X) : new Float64Array(n * K);
  if (!init) for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) scores[r * K + k] = base[k];
  const validScores = valid
    ? init
      ? predictRaw(init, valid.X)
      : (() => {
          const s = new Float64Array(valid.X.rows * K);
          for (let r = 0; r < valid.X.rows; r++) for (let k = 0; k < K; k++) s[r * K + k] = base[k];
          return s;
        })()
    : null;

  const g = new Float64Array(pool.allocate(8 * n * K));
  const h = new Float64Array(pool.allocate(8 * n * K));
  const probs = new Float64Array(K);
  const ws = createWorkspace(binned, pool);
  const allFeatures = Int32Array.from({ length: X.cols }, (_, i) => i);
  const sample = p.subsample < 1 ? new Int32Array(n) : null;
  const inSample = p.subsample < 1 ? new Uint8Array(n) : null;
  const useEarlyStopping = valid !== undefined && p.earlyStoppingRounds > 0;

  const trees: Tree[] = [];
  const history: GbdtHistoryEntry[] = [];
  const initialValidMetric = valid && validScores ? validationMetric(task, K, validScores, valid.y) : null;
  // Continued training competes with the base ensemble itself: rounds that do not beat it are not added.
  let best = init && initialValidMetric !== null ? initialValidMetric : Number.POSITIVE_INFINITY;
  let bestIteration = -1;
  for (let iter = 0; iter < p.nRounds; iter++) {
    const loss = computeGradients(task, K, scores, y, g, h, probs);
    if (iter > 0) history[iter - 1].trainLoss = loss;
    let count = n;
    if (sample && inSample) {
      count = 0;
      for (let r = 0; r < n; r++) {
        const take = rng.next() < p.subsample;
        inSample[r] = take ? 1 : 0;
        if (take) sample[count++] = r;
      }
      if (count === 0) {
        sample[0] = rng.int(n);
        inSample[sample[0]] = 1;
        count = 1;
      }
    }
    for (let k = 0; k < K; k++) {
      if (sample) ws.rows.set(sample.subarray(0, count));
      else for (let r = 0; r < n; r++) ws.rows[r] = r;
      const features = sampleFeatures(X.cols, p.colsample, rng, allFeatures);
      const gk = K === 1 ? g : g.subarray(k * n, (k + 1) * n);
      const hk = K === 1 ? h : h.subarray(k * n, (k + 1) * n);
      const grown = growTree(ws, count, gk, hk, features, p, k);
      const { tree, leafStart, leafEnd } = grown;
      // Sampled rows sit in their leaf's range of ws.rows; the others are routed by their bins.
      for (let node = 0; node < tree.value.length; node++) {
        if (leafStart[node] < 0) continue;
        const v = tree.value[node];
        for (let i = leafStart[node]; i < leafEnd[node]; i++) scores[ws.rows[i] * K + k] += v;
      }
      if (inSample) {
        for (let r = 0; r < n; r++) {
          if (inSample[r] === 0) scores[r * K + k] += tree.value[binnedLeaf(grown, binned, r)];
        }
      }
      if (valid && validScores) addTreeScores(tree, valid.X, validScores, K);
      trees.push(tree);
    }
    const metric = valid && validScores ? validationMetric(task, K, validScores, valid.y) : null;
    history.push({ iteration: iter, trainLoss: Number.NaN, validMetric: metric });
    opts.onIteration?.(iter, metric);
    if (metric !== null && metric < best - 1e-12) {
      best = metric;
      bestIteration = iter;
    }
    if (useEarlyStopping && iter - bestIteration >= p.earlyStoppingRounds) break;
  }
  history[history.length - 1].trainLoss = computeGradients(task, K, scores, y, g, h, probs);

  let kept = trees;
  // A fresh model keeps at least one round (a metric that was never finite leaves bestIteration at −1).
  if (!useEarlyStopping || (bestIteration < 0 && !init)) bestIteration = history.length - 1;
  else kept = trees.slice(0, (bestIteration + 1) * K);
  const model: TreeEnsemble = {
    kind: 'gbdt',
    task,
    nFeatures: X.cols,
    nOutputs: K,
    baseScore: base,
    trees: init ? [...init.trees, ...kept] : kept,
  };
  return { model, bestIteration, history, initialValidMetric };
}
