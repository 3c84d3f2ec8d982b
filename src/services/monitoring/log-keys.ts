// What the monitoring loop reads off prediction-log keys and ids without opening a batch: the day and
// flush time of a batch (`predictions/<model>/<yyyy-mm-dd>/<stamp>-<rand>.ndjson`, stamp = the flush
// time as 20261128T201603123Z) and the time a prediction id carries (`req_<ms base 36>-…​.<index>`).
import type { TenantScope } from '../../core/scope.ts';
import type { BlobStore } from '../../store/artifacts/ports.ts';
import { tenantPath } from '../../store/artifacts/ports.ts';
import type { PredictionRecord } from '../inference/prediction-log.ts';

/**
 * The part of PredictionLog the loop reads through: batch keys of the days in [from, to] (yyyy-mm-dd),
 * oldest first, and one batch's records. PredictionLog itself satisfies it, but its `list` walks the
 * model's whole folder; `dailyLogReader` lists only the days asked for.
 */
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

/** The day after a yyyy-mm-dd. */
export function nextDay(day: string): string {
  return dayOf(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000);
}

/** Most day folders one `list` call of dailyLogReader visits (a bounded range is the caller's job). */
const MAX_DAYS = 400;

/**
 * A reader over the prediction log that lists one folder per day asked for, so that a cycle's cost does
 * not grow with the age of the log. Without both ends of the range it lists the whole model folder
 * (a model's first cycle).
 */
export function dailyLogReader(
  log: Pick<PredictionLogReader, 'read' | 'list'>,
  blobs: Pick<BlobStore, 'list'>,
): PredictionLogReader {
  return {
    read: (scope, key) => log.read(scope, key),
    async list(scope, model, range = {}) {
      if (!range.from || !range.to) return log.list(scope, model, range);
      const base = tenantPath(scope.tenantId, '').length;
      const out: string[] = [];
      let d = range.from;
      for (let i = 0; d <= range.to && i < MAX_DAYS; i++, d = nextDay(d)) {
        for (const p of await blobs.list(tenantPath(scope.tenantId, `predictions/${model}/${d}/`)))
          out.push(p.slice(base));
      }
      return out.sort();
    },
  };
}
