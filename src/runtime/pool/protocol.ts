// The messages of a serving pool (docs/serving-pool.md) between its primary and the API processes it
// forked, over Node's IPC channel. Every message carries `pool` (its kind), so that the other messages a
// channel may carry (Node's own cluster messages, a test harness's) are told apart and ignored.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { BucketAnswer, BucketCall } from '../limits/leases.ts';

/** A scrape's series as prom-client hands them from process to process (`Registry.getMetricsAsJSON`). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** From an API process to the primary. */
export type ToPrimary =
  /** Calls to the shared buckets, batched: answered in one message of the same id, in order. */
  | { pool: 'buckets'; id: number; calls: BucketCall[] }
  /** A scrape of GET /metrics arrived here: the primary answers with the whole pool's series. */
  | { pool: 'scrape'; id: number }
  /** This process's series, asked for by a `collect` of the same id. */
  | { pool: 'collected'; id: number; metrics: MetricsJson };

/** From the primary to an API process. */
export type ToChild =
  | { pool: 'buckets'; id: number; answers: BucketAnswer[] }
  | { pool: 'scrape'; id: number; text: string; contentType: string }
  | { pool: 'scrape'; id: number; error: string }
  | { pool: 'collect'; id: number };

/** Either end of the IPC channel, as the pool's code uses it (a process, a cluster worker, a test's pair). */
export interface PoolChannel {
  send(message: ToPrimary | ToChild): void;
  /** Hears every message the channel brings; returns the function that stops listening. */
  listen(handler: (message: unknown) => void): () => void;
}

/** The kind of a pool message, or undefined for any other message. */
export function poolKind(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const kind = (message as { pool?: unknown }).pool;
  return typeof kind === 'string' ? kind : undefined;
}

/**
 * Set in the environment of the API processes a pool's primary forks: a process forked by another
 * node:cluster primary (pm2's cluster mode, say) is not one of ours and serves as a whole platform.
 */
export const POOL_PROCESS_ENV = 'TML_POOL_API_PROCESS';

/** This process is an API process of a serving pool (forked by tenantml's primary). */
export function isPoolProcess(): boolean {
  return process.env[POOL_PROCESS_ENV] === '1' && typeof process.send === 'function';
}

/** This process's own IPC channel to its parent (an API process's side of the pool). */
export function parentChannel(): PoolChannel {
  if (!process.send) throw new Error('this process has no IPC channel to a serving pool');
  return {
    send(message) {
      process.send!(message);
    },
    listen(handler) {
      process.on('message', handler);
      return () => process.off('message', handler);
    },
  };
}
