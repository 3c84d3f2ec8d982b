// The rules of the retraining loop, without I/O: which policies are valid, when feedback counts as a
// performance drop, which trigger fires, and whether a challenger beats its champion.
import type { FieldError } from '../../core/errors.ts';
import type { PolicyTrigger, RetrainPolicy } from '../../core/monitoring.ts';
import { nextCronTime, parseCron } from './cron.ts';

export const DEFAULT_PROMOTE_MARGIN = 0.005;
export const DEFAULT_COOLDOWN_HOURS = 6;
/** An alert on feedback with no policy margin set: five accuracy points, or 5% more RMSE. */
export const DEFAULT_ALERT_MARGIN = 0.05;

const KEYS = new Set([
  'onDrift',
  'onPerformanceDrop',
  'onNewRows',
  'schedule',
  'promoteMargin',
  'cooldownHours',
]);

/** The policy as given, or every problem with it (each naming its field). */
export function checkPolicy(body: unknown): { policy: RetrainPolicy; errors: [] } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { errors: [{ field: 'body', message: 'must be an object' }] };
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!KEYS.has(k)) errors.push({ field: k, message: 'is not a policy field' });
  const num = (k: string, lo: number, hi: number, loOpen: boolean, int = false): void => {
    const v = b[k];
    if (v === undefined) return;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (loOpen ? v > lo : v >= lo) &&
      v <= hi &&
      (!int || Number.isInteger(v));
    if (!ok)
      errors.push({
        field: k,
        message: `must be ${int ? 'an integer' : 'a number'} in ${loOpen ? '(' : '['}${lo}, ${hi}]`,
      });
  };
  if (b.onDrift !== undefined && typeof b.onDrift !== 'boolean')
    errors.push({ field: 'onDrift', message: 'must be true or false' });
  num('onPerformanceDrop', 0, 1, true);
  num('onNewRows', 1, 1_000_000_000, false, true);
  num('promoteMargin', 0, 1, false);
  num('cooldownHours', 0, 24 * 366, false);
  if (b.schedule !== undefined) {
    const s = typeof b.schedule === 'string' ? parseCron(b.schedule) : 'must be a string';
    if (typeof s === 'string') errors.push({ field: 'schedule', message: s });
  }
  if (errors.length > 0) return { errors };
  const p: RetrainPolicy = {};
  if (b.onDrift !== undefined) p.onDrift = b.onDrift as boolean;
  if (b.onPerformanceDrop !== undefined) p.onPerformanceDrop = b.onPerformanceDrop as number;
  if (b.onNewRows !== undefined) p.onNewRows = b.onNewRows as number;
  if (b.schedule !== undefined) p.schedule = (b.schedule as string).trim();
  if (b.promoteMargin !== undefined) p.promoteMargin = b.promoteMargin as number;
  if (b.cooldownHours !== undefined) p.cooldownHours = b.cooldownHours as number;
  return { policy: p, errors: [] };
}

/** The metric a task is judged on, and whether more is better. */
export function primaryMetric(task: string): { name: 'accuracy' | 'rmse'; higherIsBetter: boolean } {
  return task === 'regression'
    ? { name: 'rmse', higherIsBetter: false }
    : { name: 'accuracy', higherIsBetter: true };
}

/**
 * Whether feedback measured `value` is worse than the version's validation `reference` beyond `margin`:
 * accuracy in points (0.05 = five points), RMSE relative (0.05 = 5% higher).
 */
export function isPerformanceDrop(
  metric: 'accuracy' | 'rmse',
  value: number,
  reference: number,
  margin: number,
): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(reference)) return false;
  return metric === 'accuracy' ? value < reference - margin : value > reference * (1 + margin);
}

export interface TriggerInput {
  policy: RetrainPolicy;
  lastFiredAt: string | null;
  /** When the policy was last saved: a schedule counts its occurrences from then or the last firing. */
  updatedAt: string;
  now: Date;
  drift: boolean;
  performanceDrop: boolean;
  /** Rows the latest dataset version has beyond those the live version was trained on; null if unknown. */
  newRows: number | null;
}

/** The trigger that fires now (drift, performance, new rows, schedule, in that order), or null. */
export function firingTrigger(t: TriggerInput): PolicyTrigger | null {
  const p = t.policy;
  const cooldownMs = (p.cooldownHours ?? DEFAULT_COOLDOWN_HOURS) * 3_600_000;
  if (t.lastFiredAt && t.now.getTime() - new Date(t.lastFiredAt).getTime() < cooldownMs) return null;
  if (p.onDrift && t.drift) return 'drift';
  if (p.onPerformanceDrop !== undefined && t.performanceDrop) return 'performance';
  if (p.onNewRows !== undefined && t.newRows !== null && t.newRows >= p.onNewRows) return 'new-rows';
  if (p.schedule) {
    const s = parseCron(p.schedule);
    const since = t.lastFiredAt && t.lastFiredAt > t.updatedAt ? t.lastFiredAt : t.updatedAt;
    if (typeof s !== 'string' && nextCronTime(s, new Date(since), t.now) !== null) return 'schedule';
  }
  return null;
}

export interface ChallengerDecision {
  promote: boolean;
  metric: 'accuracy' | 'rmse';
  challenger: number | null;
  champion: number | null;
  margin: number;
  reasons: string[];
}

const fmt = (v: number): string => (Math.round(v * 10_000) / 10_000).toString();

/**
 * Promote only when the challenger beats the champion on the same validation rows by `margin`
 * (accuracy: points; RMSE: relative), and the champion is still the live version.
 */
export function decideChallenger(input: {
  task: string;
  challengerMetrics: Record<string, number>;
  championMetrics: Record<string, number> | undefined;
  margin: number;
  championStillLive: boolean;
}): ChallengerDecision {
  const { name, higherIsBetter } = primaryMetric(input.task);
  const ch = input.challengerMetrics[name];
  const cp = input.championMetrics?.[name];
  const d: ChallengerDecision = {
    promote: false,
    metric: name,
    challenger: Number.isFinite(ch) ? ch : null,
    champion: cp !== undefined && Number.isFinite(cp) ? cp : null,
    margin: input.margin,
    reasons: [],
  };
  if (d.challenger === null) {
    d.reasons.push(`the challenger has no ${name}`);
    return d;
  }
  if (d.champion === null) {
    d.reasons.push(`the champion was not measured on the challenger's validation rows (no ${name})`);
    return d;
  }
  const better = higherIsBetter
    ? d.challenger >= d.champion + input.margin
    : d.challenger <= d.champion * (1 - input.margin);
  const need = higherIsBetter ? `+${fmt(input.margin)}` : `-${fmt(input.margin * 100)}%`;
  d.reasons.push(
    `${name} ${fmt(d.challenger)} vs champion ${fmt(d.champion)} on the same validation rows (needs ${need})`,
  );
  if (!better) {
    d.reasons.push('not better by the promotion margin');
    return d;
  }
  if (!input.championStillLive) {
    d.reasons.push('the champion is no longer the live version');
    return d;
  }
  d.promote = true;
  return d;
}
