// The shared adapter of the limiter port: rate-limiter-flexible's Redis store, so that every API replica
// spends one tenant budget. When Redis fails or is slow, the counts fall back to this process's memory
// (limits then hold per replica) rather than refusing every prediction: availability wins (docs/limits.md).
import { createRequire } from 'node:module';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Clock } from '../../core/clock.ts';
import { type Bucket, UNBOUNDED_POINTS, type WindowLimiter } from './limiter.ts';
import { createMemoryLimiter, toCount } from './memory-limiter.ts';

// ioredis (~25 MB of resident memory) is required when a Redis limiter is made, not when this module is
// imported: a process without TENANTML_REDIS_URL never loads it. CommonJS, so the require stays synchronous.
const require = createRequire(import.meta.url);

export interface RedisLimiterOptions {
  url: string;
  /** Prefix of every key this limiter writes; distinct deployments (or test runs) on one Redis use their own. */
  keyPrefix: string;
  windowSeconds: number;
  /** A Redis answer slower than this counts as a failure and the memory fallback answers, ms. */
  timeoutMs: number;
  /** After a failure, Redis is left alone this long before it is tried again, ms. */
  retryAfterFailureMs: number;
  clock: Clock;
  /** Told of every failure (connection errors included), for a warning log or a metric. */
  onError: (err: unknown) => void;
}

export function createRedisLimiter(opts: RedisLimiterOptions): WindowLimiter {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const client = new Redis(opts.url, {
    commandTimeout: opts.timeoutMs,
    // A command waits for a reconnect at most until its timeout; never retried behind the caller's back.
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  });
  client.on('error', (err) => opts.onError(err));
  const make = (bucket: Bucket) =>
    new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${opts.keyPrefix}:${bucket}`,
      points: UNBOUNDED_POINTS,
      duration: opts.windowSeconds,
    });
  const limiters: Record<Bucket, RateLimiterRedis> = { requests: make('requests'), rows: make('rows') };
  const fallback = createMemoryLimiter({ windowSeconds: opts.windowSeconds });
  // Until this instant (epoch ms) Redis is skipped: a dead server must not add its timeout to every request.
  let skipUntil = 0;

  const failed = (err: unknown): void => {
    skipUntil = opts.clock.now().getTime() + opts.retryAfterFailureMs;
    opts.onError(err);
  };
  const redisUsable = (): boolean => opts.clock.now().getTime() >= skipUntil;

  return {
    capabilities: { sharedAcrossProcesses: true },
    async consume(bucket, key, points) {
      if (redisUsable()) {
        try {
          return toCount(await limiters[bucket].consume(key, points));
        } catch (err) {
          failed(err);
        }
      }
      return fallback.consume(bucket, key, points);
    },
    async refund(bucket, key, points) {
      // A refund may land in the other store than its consume did (Redis came back or went away between
      // the two); the count is then off by those points for one window at most.
      if (redisUsable()) {
        try {
          await limiters[bucket].reward(key, points);
          return;
        } catch (err) {
          failed(err);
        }
      }
      await fallback.refund(bucket, key, points);
    },
    async close() {
      await fallback.close();
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
