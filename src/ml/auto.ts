// `algorithm: "auto"`: picks a linear model or gradient-boosted trees from the shape of the data.
// The rule is documented in docs/learning.md; every choice carries its reason for the model record.
import type { ColumnType } from '../core/types.ts';
import type { Algorithm } from './types.ts';

/** Below this many training rows a regularised linear model is chosen. */
export const AUTO_MIN_ROWS_FOR_TREES = 500;
/** When at least this share of the feature columns is free text, a linear model is chosen. */
export const AUTO_TEXT_SHARE = 0.5;

export interface AutoInput {
  /** Rows that will train (labelled rows). */
  rows: number;
  /** The feature columns (target and dropped columns already left out). */
  columns: { name: string; type: ColumnType }[];
}

export interface AutoChoice {
  algorithm: Algorithm;
  reason: string;
}

/**
 * 1. no feature columns, or text makes up ≥ 50% of them → linear (hashed n-grams are wide and sparse,
 *    where linear models excel and trees need a dense, truncated copy);
 * 2. fewer than 500 rows → linear (trees overfit tiny data; L2 keeps a linear model stable);
 * 3. at least as many feature columns as rows → linear (too wide for trees to find stable splits);
 * 4. otherwise → gbdt (captures non-linear effects and interactions of tabular features).
 */
export function chooseAlgorithm(input: AutoInput): AutoChoice {
  const nCols = input.columns.length;
  const nText = input.columns.filter((c) => c.type === 'text').length;
  if (nCols === 0)
    return { algorithm: 'linear', reason: 'no feature columns: a linear model of the intercept' };
  if (nText / nCols >= AUTO_TEXT_SHARE) {
    return {
      algorithm: 'linear',
      reason: `${nText} of ${nCols} feature columns are text (>= ${AUTO_TEXT_SHARE * 100}%): linear on hashed n-grams`,
    };
  }
  if (input.rows < AUTO_MIN_ROWS_FOR_TREES) {
    return {
      algorithm: 'linear',
      reason: `${input.rows} training rows (< ${AUTO_MIN_ROWS_FOR_TREES}): a regularised linear model is more stable`,
    };
  }
  if (nCols >= input.rows) {
    return {
      algorithm: 'linear',
      reason: `${nCols} feature columns for ${input.rows} rows: too wide for trees`,
    };
  }
  return {
    algorithm: 'gbdt',
    reason: `${input.rows} rows of mostly tabular features: gradient-boosted trees capture non-linear effects`,
  };
}
