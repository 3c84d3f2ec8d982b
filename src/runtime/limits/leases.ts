// Leases over a shared store of buckets (the serving pool's primary, Redis). Asking the shared store on
// every request costs more than the prediction's own work (measured on the serving pool: 21.9k req/s
// asking per request, 29.3k with unshared buckets; Redis: 16k — bench/RESULTS.md), so a process takes a
// **lease**: a slice of each of a key's buckets (LEASE_SHARE of its capacity) that it spends locally,
// without asking, for at most `leaseMs`; what is left then goes back. The points are taken from the
// shared bucket when leased, so all processes together never admit more than the bucket holds; a lease
// only keeps its points from the other processes for a moment. A bucket too small to slice (under
// 1/LEASE_SHARE points) is asked call by call, and a refusal is always the shared store's own answer.
// One lease call per key at a time: the calls that find none while it is on its way wait for it.
import type { Clock } from '../../core/clock.ts';
import { POINT_EPSILON, type Spends, type TakeResult } from './limiter.ts';
import type { SharedCall } from './shared-buckets.ts';

/** A lease is this share of a bucket's capacity (at least the call's own points). */
export const LEASE_SHARE = 1 / 16;

/**
 * One call to a shared store of buckets: mode (0 give back, 1 take, 2 lease), key, then points, capacity
 * and refill per ms of requests, then of rows; a lease adds the chunk it asks of each bucket.
 */
export type BucketCall = [mode: 0 | 1 | 2, key: string, ...numbers: number[]];

/**
 * The answer to one call: taken (1; 2: a lease's whole chunk was taken) or not (0), then the points in
 * use in the requests and rows buckets.
 */
export type BucketAnswer = [taken: 0 | 1 | 2, requests: number, rows: number];

/** Points a process holds of one key's buckets, until `until` (epoch ms). */
interface Lease {
  requests: number;
  rows: number;
  until: number;
  /** Points in use in the shared buckets when the lease was granted (headers count down from there). */
  usedAtGrant: { requests: number; rows: number };
  /** The buckets' sizes, for giving the rest back. */
  spends: Spends;
}

const NOTHING: TakeResult = { taken: false, used: { requests: 0, rows: 0 } };

/** A call of `mode` with these points, sized as `s` says. */
export function bucketCall(mode: 0 | 1 | 2, key: string, s: Spends, points: [number, number]): BucketCall {
  return [
    mode,
    key,
    points[0],
    s.requests.capacity,
    s.requests.refillPerMs,
    points[1],
    s.rows.capacity,
    s.rows.refillPerMs,
  ];
}

/**
 * The shared store's calls (`ask`) behind leases: what `withMemoryFallback` wraps. `close` gives every
 * lease's rest back (and waits for the answers, failures ignored).
 */
export function withLeases(
  ask: (call: BucketCall) => Promise<BucketAnswer>,
  opts: { clock: Clock; leaseMs: number },
): { call: SharedCall; close(): Promise<void> } {
  const { clock, leaseMs } = opts;
  const leases = new Map<string, Lease>();
  const givingBack = new Set<Promise<unknown>>();

  /** A lease's unspent points go back (best effort: lost if the shared store fails meanwhile). */
  const giveBackLease = (key: string, l: Lease): void => {
    if (l.requests <= POINT_EPSILON && l.rows <= POINT_EPSILON) return;
    const p = ask(bucketCall(0, key, l.spends, [Math.max(0, l.requests), Math.max(0, l.rows)])).catch(
      () => undefined,
    );
    givingBack.add(p);
    void p.finally(() => givingBack.delete(p));
  };
  const liveLease = (key: string, now: number): Lease | undefined => {
    const l = leases.get(key);
    if (!l || l.until > now) return l;
    leases.delete(key);
    giveBackLease(key, l);
    return undefined;
  };
  // Leases of keys no call touches again go back here.
  const sweep = setInterval(() => {
    const now = clock.now().getTime();
    for (const key of leases.keys()) liveLease(key, now);
  }, leaseMs);
  sweep.unref();

  const usedOf = (l: Lease): TakeResult['used'] => ({
    requests: Math.max(0, l.usedAtGrant.requests - l.requests),
    rows: Math.max(0, l.usedAtGrant.rows - l.rows),
  });

  /** Spends `points` from the key's live lease if it holds them. */
  const spendFromLease = (key: string, points: [number, number], now: number) => {
    const l = liveLease(key, now);
    if (!l || l.requests + POINT_EPSILON < points[0] || l.rows + POINT_EPSILON < points[1]) return undefined;
    l.requests -= points[0];
    l.rows -= points[1];
    return { taken: true, used: usedOf(l) };
  };
  /** A key's lease call on its way: the calls meanwhile wait for it instead of each asking for a lease. */
  const leasing = new Map<string, Promise<unknown>>();

  const call: SharedCall = async (mode, key, s) => {
    const now = clock.now().getTime();
    const points: [number, number] = [s.requests.points, s.rows.points];
    if (mode === 'give') {
      const l = liveLease(key, now);
      if (l) {
        l.requests += points[0];
        l.rows += points[1];
      } else await ask(bucketCall(0, key, s, points));
      return NOTHING;
    }
    const spent = spendFromLease(key, points, now);
    if (spent) return spent;
    const short = liveLease(key, now);
    if (short) {
      leases.delete(key);
      giveBackLease(key, short);
    }
    const inFlight = leasing.get(key);
    if (inFlight) {
      // Every call of a busy turn would otherwise ask for a lease of its own at once — as many slices of
      // the shared bucket as calls, enough to empty it and have this process refuse its own tenant (seen
      // on the serving pool: 429s at 7,000 req/s of a 1,000,000 req/s quota). They wait for the one lease
      // instead, and whoever it cannot serve takes its own points.
      await inFlight;
      const fromNew = spendFromLease(key, points, clock.now().getTime());
      if (fromNew) return fromNew;
      const [taken, requests, rows] = await ask(bucketCall(1, key, s, points));
      return { taken: taken === 1, used: { requests, rows } };
    }
    const chunk: [number, number] = [
      Math.max(points[0], Math.floor(s.requests.capacity * LEASE_SHARE)),
      Math.max(points[1], Math.floor(s.rows.capacity * LEASE_SHARE)),
    ];
    // Only both buckets sliced make a lease worth holding: a call spends from both.
    const slicing = chunk[0] > points[0] && chunk[1] > points[1];
    const asked = bucketCall(slicing ? 2 : 1, key, s, points);
    if (slicing) asked.push(chunk[0], chunk[1]);
    const answer = ask(asked);
    if (slicing) {
      const settled = answer.catch(() => undefined);
      leasing.set(key, settled);
      void settled.finally(() => {
        if (leasing.get(key) === settled) leasing.delete(key);
      });
    }
    const [granted, usedRequests, usedRows] = await answer;
    const used = { requests: usedRequests, rows: usedRows };
    if (granted !== 2) return { taken: granted === 1, used };
    // A lease: what the call did not spend is this process's until it expires (added to the lease the key
    // holds, should it hold one by now).
    const rest = { requests: chunk[0] - points[0], rows: chunk[1] - points[1] };
    const held = liveLease(key, clock.now().getTime());
    if (held) {
      held.requests += rest.requests;
      held.rows += rest.rows;
      return { taken: true, used: usedOf(held) };
    }
    const lease: Lease = { ...rest, until: now + leaseMs, usedAtGrant: used, spends: s };
    leases.set(key, lease);
    return { taken: true, used: usedOf(lease) };
  };

  return {
    call,
    async close() {
      clearInterval(sweep);
      for (const [key, l] of leases) giveBackLease(key, l);
      leases.clear();
      await Promise.all(givingBack);
    },
  };
}
