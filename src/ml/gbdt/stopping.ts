// How many boosting rounds a tree model keeps, decided on its training rows alone: early stopping on an
// inner hold-out carved from them when there are enough, k-fold cross-validation when there are few,
// then a refit on all of them. The caller's validation rows never come here, so its metrics stay honest.
import { kFold, trainValidSplit } from '../split.ts';
import type { DenseMatrix, Task, TreeEnsemble } from '../types.ts';
import { type GbdtParams, type HistogramPool, trainGbdt } from './index.ts';
import { resolveGbdtParams } from './params.ts';

/** Share of the training rows held out to stop on, when there are at least HOLDOUT_MIN_ROWS of them. */
export const STOP_FRACTION = 0.15;
/**
 * From this many training rows on, one inner hold-out (STOP_FRACTION, i.e. 300+ rows) decides the round
 * count; below it, a hold-out would be a few dozen rows whose noise picks the round, so STOP_FOLDS-fold
 * cross-validation measures every training row once instead (small data: the extra fits are cheap).
 */
export const HOLDOUT_MIN_ROWS = 2000;
export const STOP_FOLDS = 5;
/** Fewer training rows than this cannot be cross-validated usefully: a fixed budget of nRounds. */
export const MIN_STOP_ROWS = 10;

export interface Stopping {
  /** `holdout`: one inner split; `cv`: k folds; `none`: nRounds as given (early stopping off, or too few rows). */
  method: 'holdout' | 'cv' | 'none';
  /** Training rows the stopping metric was measured on (the hold-out, or every row once across folds). */
  rows: number;
  folds?: number;
  /** New rounds kept: 0 means a continued model adds nothing to its base. */
  rounds: number;
  /** Stopping metric (log-loss or RMSE) at that round count, averaged over the rows above; null for none. */
  metric: number | null;
}

export interface StoppedGbdt {
  model: TreeEnsemble;
  stopping: Stopping;
}

export interface StoppedGbdtOptions {
  seed: number;
  init?: TreeEnsemble;
  /** Class per row: inner splits then keep each class's share. */
  strata?: Int32Array;
  /** Every round of every fit (folds, hold-out, refit); the metric is null during the refit. */
  onIteration?: (iteration: number, metric: number | null) => void;
  histogramPool?: HistogramPool;
}

function rowsOf(X: DenseMatrix, idx: Int32Array): DenseMatrix {
  const data = new Float64Array(idx.length * X.cols);
  for (let r = 0; r < idx.length; r++)
    data.set(X.data.subarray(idx[r] * X.cols, (idx[r] + 1) * X.cols), r * X.cols);
  return { kind: 'dense', rows: idx.length, cols: X.cols, data };
}

const labelsOf = (y: Float64Array, idx: Int32Array): Float64Array => Float64Array.from(idx, (i) => y[i]);

/** Inner splits use their own seed, so they are not a reshuffle of the caller's split with the same seed. */
const innerSeed = (seed: number): number => (seed ^ 0x5bd1e995) >>> 0;

/**
 * Trains trees on (X, y) with early stopping decided on X's own rows (see the module comment), then
 * refits on all of them with the chosen round count. Deterministic for a seed; any histogram pool gives
 * the same model.
 */
export function trainGbdtStopped(
  X: DenseMatrix,
  y: Float64Array,
  task: Task,
  nClasses: number,
  params: Partial<GbdtParams>,
  opts: StoppedGbdtOptions,
): StoppedGbdt {
  const p = resolveGbdtParams(params);
  const n = X.rows;
  const common = { seed: opts.seed, init: opts.init, onIteration: opts.onIteration };
  const fit = (
    Xs: DenseMatrix,
    ys: Float64Array,
    more: Partial<GbdtParams>,
    valid?: DenseMatrix,
    yv?: Float64Array,
  ) =>
    trainGbdt(
      Xs,
      ys,
      task,
      nClasses,
      { ...params, ...more },
      {
        ...common,
        ...(valid && yv ? { valid: { X: valid, y: yv } } : {}),
        ...(opts.histogramPool ? { histogramPool: opts.histogramPool } : {}),
      },
    );

  if (p.earlyStoppingRounds === 0 || n < MIN_STOP_ROWS) {
    const res = fit(X, y, { earlyStoppingRounds: 0 });
    return { model: res.model, stopping: { method: 'none', rows: 0, rounds: p.nRounds, metric: null } };
  }

  let rounds: number;
  let metric: number;
  let stopping: Omit<Stopping, 'rounds' | 'metric'>;
  if (n >= HOLDOUT_MIN_ROWS) {
    const split = trainValidSplit(n, {
      validFraction: STOP_FRACTION,
      seed: innerSeed(opts.seed),
      strata: opts.strata,
    });
    const res = fit(
      rowsOf(X, split.train),
      labelsOf(y, split.train),
      {},
      rowsOf(X, split.valid),
      labelsOf(y, split.valid),
    );
    rounds = res.bestIteration + 1;
    metric =
      (rounds === 0 ? res.initialValidMetric : res.history[res.bestIteration].validMetric) ?? Number.NaN;
    stopping = { method: 'holdout', rows: split.valid.length };
  } else {
    const folds = kFold(n, STOP_FOLDS, { seed: innerSeed(opts.seed), strata: opts.strata });
    // curves[f][r]: fold f's metric after r new rounds (r = 0: the base score or the init ensemble).
    const curves = folds.map((f) => {
      const res = fit(rowsOf(X, f.train), labelsOf(y, f.train), {}, rowsOf(X, f.valid), labelsOf(y, f.valid));
      return [res.initialValidMetric ?? Number.NaN, ...res.history.map((h) => h.validMetric ?? Number.NaN)];
    });
    // Each fold stopped once its own metric had not improved for earlyStoppingRounds, so every fold
    // still runs at the round counts where the pooled metric can still be best.
    const reach = Math.min(...curves.map((c) => c.length - 1));
    rounds = -1;
    metric = Number.POSITIVE_INFINITY;
    // A fresh model needs at least one round; a continued one may keep its base as it is.
    for (let r = opts.init ? 0 : 1; r <= reach; r++) {
      let sum = 0;
      folds.forEach((f, k) => {
        sum += f.valid.length * curves[k][r];
      });
      const m = sum / n;
      if (rounds < 0 || m < metric - 1e-12) {
        rounds = r;
        metric = m;
      }
    }
    stopping = { method: 'cv', rows: n, folds: STOP_FOLDS };
  }

  // Refit on every training row: the stop rows are data too, and the round count carries over.
  const model: TreeEnsemble =
    rounds === 0 && opts.init
      ? opts.init
      : fit(X, y, { nRounds: Math.max(rounds, 1), earlyStoppingRounds: 0 }).model;
  return { model, stopping: { ...stopping, rounds, metric: Number.isFinite(metric) ? metric : null } };
}
