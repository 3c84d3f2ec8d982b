// What the monitoring loop reads off prediction-log keys and ids without opening a batch: the day and
// flush time of a batch (`predictions/<model>/<yyyy-mm-dd>/<stamp>-<rand>.ndjson`, stamp = the flush
// time as 20261128T201603123Z) and the time a prediction id carries (`req_<ms base 36>-…​.<index>`).
import type { TenantScope } from '../../core/scope.ts';
import type { PredictionRecord } from '../inference/prediction-log.ts';

/** The part of PredictionLog the loop reads through (the platform's instance satisfies it). */
export interface PredictionLogReader {
  list(scope: TenantScope, model: string, range?: { from?: string; to?: string }): Promise<string[]>;
  read(scope: TenantScope, key: string): Promise<PredictionRecord[]>;
}

/** The yyyy-mm-dd folder of a batch key, or null. */
export function batchDay(key: string): string | null {
  const m = /\/(\d{4}-\d{2}-\d{2})\/[^/]+$/.exec(key);
  return m ? m[1] : null;
}

/** When the batch was flushed (ms since the epoch), or NaN for a key not written by the prediction log. */
export function batchStamp(key: string): number {
  const m = /\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[^/]*$/.exec(key);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]);
}

/** The time a prediction id was issued (ms), or null for ids without one (issued before ids carried it). */
export function predictionTime(predictionId: string): number | null {
  const m = /^req_([0-9a-z]{6,10})-/.exec(predictionId);
  if (!m) return null;
  const t = Number.parseInt(m[1], 36);
  return Number.isFinite(t) ? t : null;
}

/** The yyyy-mm-dd (UTC) of a time in ms. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
