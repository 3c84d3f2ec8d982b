// Drift statistics: reference profiles, mergeable window aggregates and their assessment.
export * from './aggregate.ts';
export * from './assess.ts';
export * from './profile.ts';
export * from './stats.ts';
