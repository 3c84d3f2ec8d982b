// The in-process adapter of the limiter port: rate-limiter-flexible's memory store. Counts hold for this
// process only, so with several replicas each one enforces the full quota (docs/limits.md).
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { type Bucket, UNBOUNDED_POINTS, type WindowCount, type WindowLimiter } from './limiter.ts';

export interface MemoryLimiterOptions {
  /** Length of one counting window, seconds (a positive integer). */
  windowSeconds: number;
}

export function createMemoryLimiter(opts: MemoryLimiterOptions): WindowLimiter {
  const make = (bucket: Bucket) =>
    new RateLimiterMemory({ keyPrefix: bucket, points: UNBOUNDED_POINTS, duration: opts.windowSeconds });
  const limiters: Record<Bucket, RateLimiterMemory> = { requests: make('requests'), rows: make('rows') };
  return {
    capabilities: { sharedAcrossProcesses: false },
    async consume(bucket, key, points) {
      return toCount(await limiters[bucket].consume(key, points));
    },
    async refund(bucket, key, points) {
      await limiters[bucket].reward(key, points);
    },
    async close() {},
  };
}

export function toCount(res: unknown): WindowCount {
  // The library rejects with a RateLimiterRes when its own ceiling is passed; with UNBOUNDED_POINTS that
  // cannot happen, so anything else thrown is a store error and is left to propagate.
  if (!(res instanceof RateLimiterRes)) throw res;
  return { consumed: res.consumedPoints, msBeforeReset: Math.max(0, res.msBeforeNext) };
}
