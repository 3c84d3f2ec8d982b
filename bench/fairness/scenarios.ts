// The fairness benchmark's scenarios, each on fresh tenants of one Rig (so no tenant carries usage from an
// earlier scenario) and each ending with an empty supervisor: late arrivals (with the work-conservation
// phase before them, while A is alone), weighted shares, and Jain's index over equal tenants.
import { type CpuWindow, cpuWindow, jainIndex, mean, utilisation } from './measure.ts';
import type { JobRecord, Rig } from './rig.ts';

const finishedOf = (rig: Rig, tenants: readonly string[]): JobRecord[] =>
  [...rig.records.values()].filter(
    (r) => tenants.includes(r.tenantId) && r.finishedAt !== undefined && r.state === 'succeeded',
  );

/** Jobs of the tenants that ended in neither success nor a cancel of the benchmark's own drain. */
function failuresOf(rig: Rig, tenants: readonly string[]): string[] {
  return [...rig.records.values()]
    .filter((r) => tenants.includes(r.tenantId) && r.state !== undefined)
    .filter((r) => r.state !== 'succeeded' && r.state !== 'cancelled')
    .map((r) => `${r.id}: ${r.state}`);
}

/** Keeps every listed tenant backlogged: each finished job of theirs is replaced by a new queued one. */
function topUp(rig: Rig, tenants: readonly string[], errors: string[]): void {
  rig.onChange = (r, event) => {
    if (event !== 'finished' || !tenants.includes(r.tenantId)) return;
    rig.enqueue(r.tenantId, 1).catch((err: unknown) => errors.push(`top-up ${r.tenantId}: ${String(err)}`));
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface LateOptions {
  aJobs: number;
  lateJobs: number;
  /** A's jobs that complete before B and C arrive (the work-conservation phase). */
  soloJobs: number;
  timeoutMs: number;
}

export interface LateResult {
  /** A alone, from queueing its jobs to B's and C's arrival. */
  solo: {
    seconds: number;
    jobs: number;
    /** Slot-seconds held by a job (claim to recorded outcome) / (slots × elapsed). */
    slotUtilisation: number;
    /** The same with only the child process's lifetime counted as busy. */
    childUtilisation: number;
    /** Mean seconds from queueing to the first claim (the idle poll). */
    firstClaimSeconds: number;
  };
  /** Mean seconds a job of A held its slot before the arrival: the benchmark's job-duration. */
  jobSeconds: number;
  jobCpuSeconds: number;
  /** Delay of B's and C's first job from being queued to being claimed. */
  arrivals: { tenantId: string; delaySeconds: number; delayJobs: number }[];
  /** A's jobs queued (not yet claimed) when B and C arrived. */
  aQueuedAtArrival: number;
  complete: boolean;
  failures: string[];
}

/**
 * Equal weights: A queues `aJobs`; while A is alone the slot utilisation is measured; after `soloJobs` of
 * A's jobs completed and half a job-duration more (so the arrival falls mid-job, not at a slot's
 * release), B and C queue `lateJobs` each, and the delay of each one's first job is measured.
 */
export async function lateArrivals(rig: Rig, o: LateOptions): Promise<LateResult> {
  const [a, b, c] = ['late-a', 'late-b', 'late-c'];
  await rig.tenant(a, 'standard', { queuedJobs: Math.max(o.aJobs, 20) });
  await rig.tenant(b, 'standard');
  await rig.tenant(c, 'standard');
  const aJobs = await rig.enqueue(a, o.aJobs);
  const t0 = aJobs[0].queuedAt;
  const soloDone = await rig.until(
    () => aJobs.filter((j) => j.finishedAt !== undefined).length >= o.soloJobs,
    o.timeoutMs,
  );
  const doneA = aJobs.filter((j) => j.finishedAt !== undefined);
  const jobSeconds = mean(doneA.map((j) => ((j.finishedAt ?? 0) - (j.claimedAt ?? 0)) / 1000));
  await sleep((jobSeconds * 1000) / 2);
  const arriveAt = performance.now();
  const aQueuedAtArrival = aJobs.filter((j) => j.claimedAt === undefined).length;
  const [bJobs, cJobs] = [await rig.enqueue(b, o.lateJobs), await rig.enqueue(c, o.lateJobs)];
  const firsts = [bJobs[0], cJobs[0]];
  const started = await rig.until(() => firsts.every((j) => j.claimedAt !== undefined), o.timeoutMs);

  const slotBusy = aJobs
    .filter((j) => j.claimedAt !== undefined)
    .map((j) => ({ start: j.claimedAt ?? 0, end: j.finishedAt ?? Number.POSITIVE_INFINITY }));
  const childBusy = aJobs
    .filter((j) => j.childStartedAt !== undefined)
    .map((j) => ({ start: j.childStartedAt ?? 0, end: j.childExitedAt ?? Number.POSITIVE_INFINITY }));
  const slots = rig.opts.slots;
  const firstClaim = Math.min(...aJobs.map((j) => j.claimedAt ?? Number.POSITIVE_INFINITY));
  const result: LateResult = {
    solo: {
      seconds: (arriveAt - t0) / 1000,
      jobs: doneA.length,
      slotUtilisation: utilisation(slotBusy, t0, arriveAt, slots),
      childUtilisation: utilisation(childBusy, t0, arriveAt, slots),
      firstClaimSeconds: (firstClaim - t0) / 1000,
    },
    jobSeconds,
    jobCpuSeconds: mean(doneA.map((j) => j.cpuSeconds ?? 0)),
    arrivals: firsts.map((j) => {
      const delaySeconds = ((j.claimedAt ?? Number.NaN) - j.queuedAt) / 1000;
      return { tenantId: j.tenantId, delaySeconds, delayJobs: delaySeconds / jobSeconds };
    }),
    aQueuedAtArrival,
    complete: soloDone && started,
    failures: [],
  };
  await rig.drain([a, b, c]);
  result.failures = failuresOf(rig, [a, b, c]);
  return result;
}

export interface ShareOptions {
  warmupCpu: number;
  windowCpu: number;
  /** Jobs each tenant keeps queued at the start (topped up as they finish). */
  backlog: number;
  timeoutMs: number;
}

export interface WeightedResult {
  tenants: { id: string; tier: string; weight: number }[];
  /** The window measured (after the warm-up). */
  window: CpuWindow;
  /** The warm-up, measured the same way (its ratio shows the transient). */
  warmup: CpuWindow;
  ratio: number;
  warmupRatio: number;
  windowSeconds: number;
  errors: string[];
  failures: string[];
}

/**
 * Two backlogged tenants of the standard (weight 2) and free (weight 1) tiers with their tier defaults:
 * the CPU-seconds each is served in a window of completed jobs after a warm-up.
 */
export async function weightedShares(rig: Rig, o: ShareOptions): Promise<WeightedResult> {
  const heavy = 'share-standard';
  const light = 'share-free';
  await rig.tenant(heavy, 'standard');
  await rig.tenant(light, 'free');
  const ids = [heavy, light];
  const errors: string[] = [];
  topUp(rig, ids, errors);
  await rig.enqueue(heavy, o.backlog);
  await rig.enqueue(light, o.backlog);
  const served = () =>
    finishedOf(rig, ids).map((r) => ({
      tenantId: r.tenantId,
      at: r.finishedAt ?? 0,
      cpuSeconds: r.cpuSeconds ?? 0,
    }));
  await rig.until(() => cpuWindow(served(), ids, o.warmupCpu, o.windowCpu).complete, o.timeoutMs);
  rig.onChange = null;
  const window = cpuWindow(served(), ids, o.warmupCpu, o.windowCpu);
  const warmup = cpuWindow(served(), ids, 0, o.warmupCpu);
  await rig.drain(ids);
  return {
    tenants: [
      { id: heavy, tier: 'standard', weight: 2 },
      { id: light, tier: 'free', weight: 1 },
    ],
    window,
    warmup,
    ratio: window.served[heavy] / window.served[light],
    warmupRatio: warmup.served[heavy] / warmup.served[light],
    windowSeconds: (window.to - window.from) / 1000,
    errors,
    failures: failuresOf(rig, ids),
  };
}

export interface JainResult {
  tenants: string[];
  window: CpuWindow;
  index: number;
  windowSeconds: number;
  errors: string[];
  failures: string[];
}

/** `n` backlogged standard-tier tenants: Jain's index of their CPU-seconds in a window of completed jobs. */
export async function equalShares(rig: Rig, n: number, o: ShareOptions): Promise<JainResult> {
  const ids = Array.from({ length: n }, (_, i) => `jain-${i + 1}`);
  for (const id of ids) await rig.tenant(id, 'standard');
  const errors: string[] = [];
  topUp(rig, ids, errors);
  for (const id of ids) await rig.enqueue(id, o.backlog);
  const served = () =>
    finishedOf(rig, ids).map((r) => ({
      tenantId: r.tenantId,
      at: r.finishedAt ?? 0,
      cpuSeconds: r.cpuSeconds ?? 0,
    }));
  await rig.until(() => cpuWindow(served(), ids, o.warmupCpu, o.windowCpu).complete, o.timeoutMs);
  rig.onChange = null;
  const window = cpuWindow(served(), ids, o.warmupCpu, o.windowCpu);
  await rig.drain(ids);
  return {
    tenants: ids,
    window,
    index: jainIndex(ids.map((id) => window.served[id])),
    windowSeconds: (window.to - window.from) / 1000,
    errors,
    failures: failuresOf(rig, ids),
  };
}
