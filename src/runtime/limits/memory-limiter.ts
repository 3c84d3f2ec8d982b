// The in-process adapter of the limiter port: every tenant's buckets in a Map. They hold for this process
// only, so with several replicas each one enforces the full quota (docs/limits.md).
import type { Clock } from '../../core/clock.ts';
import { applySpends, type BucketState, msUntilFull, type Spends, type TokenBuckets } from './limiter.ts';

export interface MemoryBucketsOptions {
  clock: Clock;
  /** The map is swept of full buckets once it holds this many keys (then at twice what the sweep left). */
  sweepAt?: number;
}

export function createMemoryBuckets(opts: MemoryBucketsOptions): TokenBuckets {
  const minSweep = opts.sweepAt ?? 10_000;
  /** Each key's state, and when both its buckets are full again (so it can be dropped). */
  const states = new Map<string, { state: BucketState; fullAt: number }>();
  let sweepAt = minSweep;

  const apply = (key: string, spends: Spends, mode: 'take' | 'give') => {
    const now = opts.clock.now().getTime();
    const { next, result } = applySpends(states.get(key)?.state, now, spends, mode);
    if (next) {
      states.set(key, { state: next, fullAt: now + msUntilFull(next, spends) });
      if (states.size >= sweepAt) {
        for (const [k, v] of states) if (v.fullAt <= now) states.delete(k);
        sweepAt = Math.max(minSweep, 2 * states.size);
      }
    }
    return result;
  };

  return {
    capabilities: { sharedAcrossProcesses: false },
    async take(key, spends) {
      return apply(key, spends, 'take');
    },
    async giveBack(key, spends) {
      apply(key, spends, 'give');
    },
    async close() {
      states.clear();
    },
  };
}
