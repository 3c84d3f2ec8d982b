// The MLOps loop's domain: monitoring windows over the prediction log, retraining policies, champion/
// challenger decisions and alert events. Pure types and small rules; the statistics are in src/ml/drift/,
// the loop that runs them in src/services/monitoring/.

export type Granularity = 'hour' | 'day';

/** The start of the window holding `at` (ISO, UTC), e.g. 2026-11-28T19:00:00.000Z for an hour. */
export function windowStart(at: string, granularity: Granularity): string {
  const d = new Date(at);
  if (granularity === 'day') d.setUTCHours(0, 0, 0, 0);
  else d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
}

/** The window after the one starting at `start`. */
export function nextWindow(start: string, granularity: Granularity): string {
  const d = new Date(start);
  if (granularity === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else d.setUTCHours(d.getUTCHours() + 1);
  return d.toISOString();
}

/**
 * When a tenant model is retrained. Every trigger is optional; none set means the model is only watched.
 * A fired policy queues an ordinary training job (fair scheduler, quotas) on the latest dataset version;
 * its result is a challenger (see ChampionChallenger).
 */
export interface RetrainPolicy {
  /** Retrain when a window's dataset drift is detected. */
  onDrift?: boolean;
  /** Retrain when a window's feedback metric is worse than the live version's validation metric by this much (accuracy points as a fraction, e.g. 0.05; or relative RMSE). */
  onPerformanceDrop?: number;
  /** Retrain when the training dataset has gained this many rows since the live version was trained. */
  onNewRows?: number;
  /** Retrain on a schedule: a five-field cron expression in UTC. */
  schedule?: string;
  /** How a challenger must beat the champion to be promoted (default: by 0.005 on the compared metric). */
  promoteMargin?: number;
  /** Fewest hours between two policy-fired jobs of one model (default 6): a drifting model is not retrained in a loop. */
  cooldownHours?: number;
}

export type PolicyTrigger = 'drift' | 'performance' | 'new-rows' | 'schedule';

/** Events a tenant can subscribe webhooks to. */
export const ALERT_EVENTS = [
  'drift',
  'performance_drop',
  'job_failed',
  'promotion',
  'challenger_rejected',
  'budget',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** What a webhook delivery carries (ids, figures and reasons; never data values). */
export interface AlertPayload {
  id: string;
  event: AlertEvent;
  tenantId: string;
  at: string;
  model?: string;
  version?: number;
  data: Record<string, unknown>;
}
