// The shared adapter of the limiter port: each tenant's two buckets in one Redis hash, read and written by
// one Lua script, so that every API replica spends one tenant budget — through leases (leases.ts): a
// replica spends a slice of a bucket without a round trip. When Redis fails or is slow, the buckets fall
// back to this process's memory (limits then hold per replica) rather than refusing every prediction:
// availability wins (docs/limits.md).
import { createRequire } from 'node:module';
import type { Clock } from '../../core/clock.ts';
import { type BucketAnswer, type BucketCall, withLeases } from './leases.ts';
import type { TokenBuckets } from './limiter.ts';
import { withMemoryFallback } from './shared-buckets.ts';

// ioredis (~25 MB of resident memory) is required when a Redis limiter is made, not when this module is
// imported: a process without TENANTML_REDIS_URL never loads it. CommonJS, so the require stays synchronous.
const require = createRequire(import.meta.url);

/**
 * `applySpends` (limiter.ts) in Lua, run atomically by Redis. KEYS[1]: the tenant's hash {at, requests,
 * rows} (points in use as of `at`, epoch ms). ARGV: "take", "give" or "lease", then points, capacity and
 * refill per ms of requests, then of rows; a lease then the chunk it asks of each bucket, taken if both
 * fit, else only the points (leases.ts). The time is Redis's own, so replicas whose clocks differ agree.
 * Numbers are stored and returned as %.17g strings: Redis would truncate a Lua number to an integer.
 * Returns {taken (0|1; 2: the lease's chunk), requests in use, rows in use}.
 */
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'at', 'requests', 'rows')
local elapsed = 0
if s[1] then elapsed = math.max(0, now - tonumber(s[1])) end
local used, points, cap, rate, chunk = {}, {}, {}, {}, {}
for i = 1, 2 do
  points[i] = tonumber(ARGV[3 * i - 1])
  cap[i] = tonumber(ARGV[3 * i])
  rate[i] = tonumber(ARGV[3 * i + 1])
  chunk[i] = tonumber(ARGV[7 + i]) or points[i]
  used[i] = math.max(0, (tonumber(s[i + 1]) or 0) - elapsed * rate[i])
end
local fits = function(p)
  return used[1] + p[1] <= cap[1] + 1e-9 and used[2] + p[2] <= cap[2] + 1e-9
end
local taken = 0
if ARGV[1] == 'give' then
  for i = 1, 2 do used[i] = math.max(0, used[i] - points[i]) end
elseif ARGV[1] == 'lease' and fits(chunk) then
  taken = 2
  for i = 1, 2 do used[i] = used[i] + chunk[i] end
elseif fits(points) then
  taken = 1
  for i = 1, 2 do used[i] = used[i] + points[i] end
end
local f = function(x) return string.format('%.17g', x) end
if ARGV[1] == 'give' or taken > 0 then
  redis.call('HSET', KEYS[1], 'at', f(now), 'requests', f(used[1]), 'rows', f(used[2]))
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(used[1] / rate[1], used[2] / rate[2])) + 1)
end
return { taken, f(used[1]), f(used[2]) }
`;

export interface RedisLimiterOptions {
  url: string;
  /** Prefix of every key this limiter writes; distinct deployments (or test runs) on one Redis use their own. */
  keyPrefix: string;
  /** A Redis answer slower than this counts as a failure and the memory fallback answers, ms. */
  timeoutMs: number;
  /** After a failure, Redis is left alone this long before it is tried again, ms. */
  retryAfterFailureMs: number;
  clock: Clock;
  /** Told of every failure (connection errors included), for a warning log or a metric. */
  onError: (err: unknown) => void;
  /** A lease's unspent points go back to Redis after this long, ms. Default 250. */
  leaseMs?: number;
}

type ScriptClient = import('ioredis').Redis & {
  tenantmlBuckets(key: string, ...args: (string | number)[]): Promise<[number, string, string]>;
};

export function createRedisLimiter(opts: RedisLimiterOptions): TokenBuckets {
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const client = new Redis(opts.url, {
    commandTimeout: opts.timeoutMs,
    // A command waits for a reconnect at most until its timeout; never retried behind the caller's back.
    maxRetriesPerRequest: 0,
    lazyConnect: false,
  }) as ScriptClient;
  client.on('error', (err) => opts.onError(err));
  // EVALSHA, falling back to EVAL once when Redis does not know the script yet (after a restart).
  client.defineCommand('tenantmlBuckets', { numberOfKeys: 1, lua: SCRIPT });
  const MODES = ['give', 'take', 'lease'] as const;
  const ask = async ([mode, key, ...numbers]: BucketCall): Promise<BucketAnswer> => {
    const [taken, requests, rows] = await client.tenantmlBuckets(
      `${opts.keyPrefix}:${key}`,
      MODES[mode],
      ...numbers,
    );
    return [taken as 0 | 1 | 2, Number(requests), Number(rows)];
  };
  const leased = withLeases(ask, { clock: opts.clock, leaseMs: opts.leaseMs ?? 250 });

  return withMemoryFallback(leased.call, {
    clock: opts.clock,
    retryAfterFailureMs: opts.retryAfterFailureMs,
    onError: opts.onError,
    async close() {
      await leased.close();
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  });
}
