// Checks training parameters before a job is queued, with the same rules trainModel applies when it
// reads them (src/ml/train.ts, src/ml/gbdt/params.ts), but collecting every problem instead of the first.
import { type FieldError, isAppError } from '../core/errors.ts';
import { DEFAULT_GBDT_PARAMS, type GbdtParams, resolveGbdtParams } from './gbdt/params.ts';

export const FEATURIZER_PARAM_KEYS = ['maxCategories', 'minFrequency', 'textBits'] as const;
export const LINEAR_PARAM_KEYS = ['C', 'alpha', 'classWeight', 'maxIterations', 'tol'] as const;
export const GBDT_PARAM_KEYS = Object.keys(DEFAULT_GBDT_PARAMS) as (keyof GbdtParams)[];

const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isPositiveInt = (v: unknown): boolean => isPositive(v) && Number.isInteger(v);

/**
 * Problems with `params` for `algorithm` (empty when fine). With `auto` the algorithm is chosen from the
 * data at training time, so only featurizer parameters are accepted: name the algorithm to tune it.
 */
export function checkParams(
  algorithm: 'auto' | 'linear' | 'gbdt',
  params: Record<string, unknown>,
): FieldError[] {
  const errors: FieldError[] = [];
  const err = (key: string, message: string): void => {
    errors.push({ field: `params.${key}`, message });
  };
  const gbdt: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(params)) {
    if ((FEATURIZER_PARAM_KEYS as readonly string[]).includes(key)) {
      if (!isPositiveInt(v)) err(key, 'must be a positive integer');
      else if (key === 'textBits' && (v as number) > 24) err(key, 'must be at most 24');
    } else if (algorithm === 'linear' && (LINEAR_PARAM_KEYS as readonly string[]).includes(key)) {
      if (key === 'maxIterations') {
        if (!isPositiveInt(v)) err(key, 'must be a positive integer');
      } else if (key === 'classWeight') {
        if (v === null || v === 'balanced') continue;
        if (typeof v !== 'object' || Array.isArray(v)) {
          err(key, "must be 'balanced' or an object of class → weight");
          continue;
        }
        for (const [cls, w] of Object.entries(v as Record<string, unknown>)) {
          if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
            err(key, `the weight of class '${cls}' must be a number >= 0`);
        }
      } else if (!isPositive(v)) err(key, 'must be a positive number');
    } else if (algorithm === 'gbdt' && (GBDT_PARAM_KEYS as string[]).includes(key)) {
      if (key === 'growPolicy' ? typeof v !== 'string' : typeof v !== 'number' || !Number.isFinite(v)) {
        err(key, key === 'growPolicy' ? 'must be depthwise or lossguide' : 'must be a number');
      } else gbdt[key] = v;
    } else if (algorithm === 'auto' && [...LINEAR_PARAM_KEYS, ...GBDT_PARAM_KEYS].includes(key as never)) {
      err(key, "is a model parameter: set algorithm to 'linear' or 'gbdt' to use it");
    } else {
      err(
        key,
        algorithm === 'auto' ? 'is not a known parameter' : `is not a parameter of ${algorithm} models`,
      );
    }
  }
  // resolveGbdtParams stops at the first problem: drop the offending key and ask again until it passes.
  for (let guard = 0; guard <= GBDT_PARAM_KEYS.length; guard++) {
    try {
      resolveGbdtParams(gbdt as Partial<GbdtParams>);
      break;
    } catch (e) {
      if (!isAppError(e) || !e.errors?.length) throw e;
      const field = e.errors[0].field;
      errors.push(...e.errors);
      const key = field.replace(/^params\./, '');
      if (!(key in gbdt)) break; // the defaults never fail, so this cannot loop
      delete gbdt[key];
    }
  }
  return errors;
}
