// The model cache: loaded model versions kept under a memory budget in bytes, least recently used first
// out. One load per key however many requests wait for it (single flight), and an evicted entry is
// disposed only once the last request holding it has finished, so eviction never breaks a request.

export interface Cacheable {
  /** Estimated resident bytes of this entry (what the budget counts). */
  readonly bytes: number;
  /** Frees what the entry holds (the ONNX session). Called once, when no request holds it any more. */
  dispose(): Promise<void> | void;
}

export interface CacheEvents {
  hit?(key: string): void;
  miss?(key: string): void;
  /** A load finished (ok or not), with how long it took. */
  loaded?(key: string, ms: number, ok: boolean): void;
  evicted?(key: string, bytes: number): void;
}

/** A hold on a cache entry: the entry stays usable until `release()`, even if evicted meanwhile. */
export interface Lease<T> {
  readonly value: T;
  release(): void;
}

interface Entry<T extends Cacheable> {
  key: string;
  value: T;
  holds: number;
  evicted: boolean;
}

export class ModelCache<T extends Cacheable> {
  private readonly entries = new Map<string, Entry<T>>(); // insertion order is recency order
  private readonly loading = new Map<string, Promise<Entry<T>>>();
  private total = 0;
  private readonly now: () => number;
  /** Counters since start, and the durations of the most recent loads (ms), for benchmarks and ops. */
  readonly stats = {
    hits: 0,
    misses: 0,
    loads: 0,
    failedLoads: 0,
    evictions: 0,
    recentLoadMs: [] as number[],
  };

  constructor(
    private readonly budgetBytes: number,
    private readonly events: CacheEvents = {},
    now: () => number = () => performance.now(),
  ) {
    this.now = now;
  }

  /** Estimated bytes held by the cached entries. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The cached values, least recently used first (reports, benchmarks). */
  values(): T[] {
    return [...this.entries.values()].map((e) => e.value);
  }

  /** The entry for `key`, loaded with `load` on a miss; concurrent misses of one key share one load. */
  async acquire(key: string, load: () => Promise<T>): Promise<Lease<T>> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.stats.hits++;
      this.events.hit?.(key);
      return this.lease(hit);
    }
    this.stats.misses++;
    this.events.miss?.(key);
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(key, load);
      this.loading.set(key, pending);
    }
    const entry = await pending;
    return this.lease(entry);
  }

  private async load(key: string, load: () => Promise<T>): Promise<Entry<T>> {
    const started = this.now();
    try {
      const value = await load();
      const ms = this.now() - started;
      this.stats.loads++;
      this.stats.recentLoadMs.push(ms);
      if (this.stats.recentLoadMs.length > 10_000) this.stats.recentLoadMs.splice(0, 5_000);
      this.events.loaded?.(key, ms, true);
      const entry: Entry<T> = { key, value, holds: 0, evicted: false };
      this.entries.set(key, entry);
      this.total += value.bytes;
      this.shrink(key);
      return entry;
    } catch (err) {
      this.stats.failedLoads++;
      this.events.loaded?.(key, this.now() - started, false);
      throw err;
    } finally {
      this.loading.delete(key);
    }
  }

  private lease(entry: Entry<T>): Lease<T> {
    entry.holds++;
    let released = false;
    return {
      value: entry.value,
      release: () => {
        if (released) return;
        released = true;
        entry.holds--;
        if (entry.evicted && entry.holds === 0) void entry.value.dispose();
      },
    };
  }

  /**
   * Evicts least recently used entries, one at a time, until the budget holds again — never the entry
   * just loaded (a model larger than the whole budget is still served, alone).
   */
  private shrink(keep: string): void {
    while (this.total > this.budgetBytes) {
      // `keep` was inserted last, so it is the oldest only when it is alone.
      const oldest = this.entries.keys().next().value as string | undefined;
      if (oldest === undefined || oldest === keep) return;
      this.evict(oldest);
    }
  }

  /** Removes one entry; its resources go once no request holds it. */
  evict(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.total -= entry.value.bytes;
    entry.evicted = true;
    this.stats.evictions++;
    this.events.evicted?.(key, entry.value.bytes);
    if (entry.holds === 0) void entry.value.dispose();
    return true;
  }

  /** Disposes every entry (shutdown). Loads still in flight finish and are disposed by their own eviction. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    const all = [...this.entries.values()];
    this.entries.clear();
    this.total = 0;
    await Promise.all(
      all.map(async (e) => {
        e.evicted = true;
        if (e.holds === 0) await e.value.dispose();
      }),
    );
  }
}
