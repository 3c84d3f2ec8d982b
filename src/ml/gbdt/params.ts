// Hyper-parameters of the histogram GBDT, their defaults and their validation.
// Names and meanings follow XGBoost where one exists, so tuned settings carry over.
import { invalid } from '../../core/errors.ts';

export type GrowPolicy = 'depthwise' | 'lossguide';

export interface GbdtParams {
  /** Boosting rounds (one tree per round, or one per class per round for multiclass). Default 200. */
  nRounds: number;
  /** Shrinkage applied to every leaf value. Default 0.1. */
  learningRate: number;
  /** 'depthwise' grows level by level up to maxDepth; 'lossguide' splits the best leaf first up to maxLeaves. */
  growPolicy: GrowPolicy;
  /** Maximum depth; 0 = unlimited (only meaningful with lossguide). Default 6. */
  maxDepth: number;
  /** Maximum leaves per tree with lossguide; ignored by depthwise. Default 31. */
  maxLeaves: number;
  /** L2 penalty on leaf values (XGBoost `lambda`). Default 1. */
  lambda: number;
  /** Minimum hessian sum in each child. Default 1. */
  minChildWeight: number;
  /** Minimum loss reduction for a split (XGBoost `gamma`, in the same unscaled units). Default 0. */
  gamma: number;
  /** Value bins per feature, at most 255 (one more bin is reserved for missing values). Default 255. */
  maxBins: number;
  /** Fraction of rows sampled (without replacement, per round). Default 1. */
  subsample: number;
  /** Fraction of features sampled per tree. Default 1. */
  colsample: number;
  /** Stop when the validation metric has not improved for this many rounds; 0 disables. Default 20. */
  earlyStoppingRounds: number;
  /** Rows sampled to place the bin edges. Default 200,000. */
  binSampleSize: number;
}

export const DEFAULT_GBDT_PARAMS: Readonly<GbdtParams> = Object.freeze({
  nRounds: 200,
  learningRate: 0.1,
  growPolicy: 'depthwise',
  maxDepth: 6,
  maxLeaves: 31,
  lambda: 1,
  minChildWeight: 1,
  gamma: 0,
  maxBins: 255,
  subsample: 1,
  colsample: 1,
  earlyStoppingRounds: 20,
  binSampleSize: 200_000,
});

function check(ok: boolean, field: string, message: string): void {
  if (!ok) throw invalid(`params.${field}`, message);
}

const isInt = (v: number): boolean => Number.isInteger(v);

/** Fills the defaults and rejects values that cannot train (a `validation_failed` naming the field). */
export function resolveGbdtParams(params: Partial<GbdtParams> = {}): GbdtParams {
  const p: GbdtParams = { ...DEFAULT_GBDT_PARAMS };
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    check(Object.hasOwn(DEFAULT_GBDT_PARAMS, k), k, 'is not a GBDT parameter');
    const expected = typeof DEFAULT_GBDT_PARAMS[k as keyof GbdtParams];
    check(typeof v === expected && (expected !== 'number' || Number.isFinite(v)), k, `must be a ${expected}`);
    (p as unknown as Record<string, unknown>)[k] = v;
  }
  check(
    isInt(p.nRounds) && p.nRounds >= 1 && p.nRounds <= 100_000,
    'nRounds',
    'must be an integer in 1..100000',
  );
  check(p.learningRate > 0 && p.learningRate <= 1, 'learningRate', 'must be in (0, 1]');
  check(
    p.growPolicy === 'depthwise' || p.growPolicy === 'lossguide',
    'growPolicy',
    'must be depthwise or lossguide',
  );
  check(isInt(p.maxDepth) && p.maxDepth >= 0 && p.maxDepth <= 32, 'maxDepth', 'must be an integer in 0..32');
  check(
    p.growPolicy === 'lossguide' || p.maxDepth >= 1,
    'maxDepth',
    'must be at least 1 with depthwise growth',
  );
  check(
    isInt(p.maxLeaves) && p.maxLeaves >= 2 && p.maxLeaves <= 65_536,
    'maxLeaves',
    'must be an integer in 2..65536',
  );
  check(p.lambda >= 0 && Number.isFinite(p.lambda), 'lambda', 'must be a finite number >= 0');
  check(p.minChildWeight >= 0 && Number.isFinite(p.minChildWeight), 'minChildWeight', 'must be >= 0');
  check(p.gamma >= 0 && Number.isFinite(p.gamma), 'gamma', 'must be a finite number >= 0');
  check(isInt(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255, 'maxBins', 'must be an integer in 2..255');
  check(p.subsample > 0 && p.subsample <= 1, 'subsample', 'must be in (0, 1]');
  check(p.colsample > 0 && p.colsample <= 1, 'colsample', 'must be in (0, 1]');
  check(
    isInt(p.earlyStoppingRounds) && p.earlyStoppingRounds >= 0,
    'earlyStoppingRounds',
    'must be an integer >= 0',
  );
  check(isInt(p.binSampleSize) && p.binSampleSize >= 1000, 'binSampleSize', 'must be an integer >= 1000');
  return p;
}
