// The MLOps loop's service side: the monitoring cycle, the champion/challenger decision, policy rules.
export { type CronSchedule, nextCronTime, parseCron } from './cron.ts';
export {
  batchDay,
  batchStamp,
  dailyLogReader,
  nextDay,
  type PredictionLogReader,
  predictionTime,
} from './log-keys.ts';
export {
  checkPolicy,
  DEFAULT_COOLDOWN_HOURS,
  DEFAULT_PROMOTE_MARGIN,
  decideChallenger,
  firingTrigger,
  isPerformanceDrop,
  primaryMetric,
} from './policy.ts';
export {
  type AlertSink,
  type CycleStats,
  type MonitoringDeps,
  MonitoringService,
  type MonitoringSettings,
  SETTLE_MS,
  type StoredReport,
  shardOf,
} from './service.ts';
