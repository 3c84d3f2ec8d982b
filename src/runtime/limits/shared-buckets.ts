// What the two shared adapters of the limiter port have in common (Redis across replicas, the serving
// pool's primary across its processes): every call goes to the shared store; when the store fails or is
// slow, this process's memory answers instead and the store is left alone for a while, so that a dead
// store neither refuses every prediction nor adds its timeout to each of them (availability wins,
// docs/limits.md).
import type { Clock } from '../../core/clock.ts';
import type { Spends, TakeResult, TokenBuckets } from './limiter.ts';
import { createMemoryBuckets } from './memory-limiter.ts';

/** One call to the shared store: take (or give back) both spends of a key, the store's answer. */
export type SharedCall = (mode: 'take' | 'give', key: string, spends: Spends) => Promise<TakeResult>;

export interface SharedBucketsOptions {
  clock: Clock;
  /** After a failure, the shared store is left alone this long before it is tried again, ms. */
  retryAfterFailureMs: number;
  /** Told of every failure, for a warning log or a metric. */
  onError: (err: unknown) => void;
  /** Releases the shared store's connection (after the memory fallback is cleared). */
  close: () => Promise<void>;
}

export function withMemoryFallback(call: SharedCall, opts: SharedBucketsOptions): TokenBuckets {
  const fallback = createMemoryBuckets({ clock: opts.clock });
  // Until this instant (epoch ms) the store is skipped.
  let skipUntil = 0;

  /** The shared store when usable, else (or when it fails) this process's memory. */
  const apply = async (mode: 'take' | 'give', key: string, spends: Spends): Promise<TakeResult> => {
    if (opts.clock.now().getTime() >= skipUntil) {
      try {
        return await call(mode, key, spends);
      } catch (err) {
        skipUntil = opts.clock.now().getTime() + opts.retryAfterFailureMs;
        opts.onError(err);
      }
    }
    if (mode === 'take') return fallback.take(key, spends);
    await fallback.giveBack(key, spends);
    return { taken: false, used: { requests: 0, rows: 0 } };
  };

  return {
    capabilities: { sharedAcrossProcesses: true },
    take: (key, spends) => apply('take', key, spends),
    // Points may go back to the other store than they were taken from (the shared one came back or went
    // away between the two); that bucket then refills that much early or late, once.
    async giveBack(key, spends) {
      await apply('give', key, spends);
    },
    async close() {
      await fallback.close();
      await opts.close();
    },
  };
}
