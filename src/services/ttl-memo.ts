// A per-key memo of an async answer, reused for a fixed time: the request path's reads of slowly changing
// store data (a tenant's limits, a model name's resolution, that a tenant exists) cost one query per key
// per period, not one per request. A failure is forgotten at once unless `keepFailure` says it is a definite answer.
import type { Clock } from '../core/clock.ts';

export interface TtlMemoOptions {
  ttlMs: number;
  clock: Clock;
  /** Keys held at most; reaching it forgets them all (a flood of distinct keys never grows memory). */
  maxKeys: number;
  /** Whether a rejection is kept for the period like an answer (e.g. a 404); default: never. */
  keepFailure?: (err: unknown) => boolean;
}

export interface TtlMemo<T> {
  get(key: string, load: () => Promise<T>): Promise<T>;
  /** Forgets one key (its next get loads again). */
  delete(key: string): void;
  clear(): void;
}

export function ttlMemo<T>(opts: TtlMemoOptions): TtlMemo<T> {
  const entries = new Map<string, { at: number; value: Promise<T> }>();
  return {
    get(key, load) {
      const now = opts.clock.now().getTime();
      const hit = entries.get(key);
      if (hit && now - hit.at < opts.ttlMs) return hit.value;
      const value = load();
      value.catch((err) => {
        if (!opts.keepFailure?.(err)) entries.delete(key);
      });
      if (entries.size >= opts.maxKeys) entries.clear();
      entries.set(key, { at: now, value });
      return value;
    },
    delete: (key) => {
      entries.delete(key);
    },
    clear: () => entries.clear(),
  };
}
