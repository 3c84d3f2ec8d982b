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
  /** Arrivals of a fresh pair B, C; later pairs come once A holds both slots again. */
  trials: number;
  timeoutMs: number;
}

export interface Arrival {
  trial: number;
  tenantId: string;
  delaySeconds: number;
  /** delaySeconds over the mean job-duration of A. */
  delayJobs: number;
  /** Jobs of A claimed after this job was queued and before it was claimed (fair: 0). */
  overtakenBy: number;
  /** A's jobs still queued when it arrived. */
  aQueued: number;
}

export interface LateResult {
  /** A alone, from queueing its jobs to the first arrival of B and C. */
  solo: {
    seconds: number;
    jobs: number;
    /** Slot-seconds held by a job (claim to recorded outcome) / (slots × elapsed). */
    slotUtilisation: number;
    /** The same with only the child process's lifetime counted as busy. */
    childUtilisation: number;
    /** Seconds from queueing to the first claim (the idle poll). */
    firstClaimSeconds: number;
  };
  /** Mean seconds a job of A held its slot (claim → outcome recorded): the benchmark's job-duration. */
  jobSeconds: number;
  jobCpuSeconds: number;
  /** Delay of each B's and C's first job from being queued to being claimed. */
  arrivals: Arrival[];
  complete: boolean;
  failures: string[];
}

/**
 * Equal weights: A queues `aJobs`; while A is alone the slot utilisation is measured. After `soloJobs` of
 * A's jobs completed and half a job-duration more (so the arrival falls mid-job, not at a slot's
 * release), B and C queue `lateJobs` each, and the delay of each one's first job is measured. Further
 * trials cancel the pair's other jobs, wait until A again holds both slots and one more of its jobs
 * completed, and bring a fresh pair the same way.
 */
export async function lateArrivals(rig: Rig, o: LateOptions): Promise<LateResult> {
  const a = 'late-a';
  await rig.tenant(a, 'standard', { queuedJobs: Math.max(o.aJobs, 20) });
  const tenants = [a];
  const aJobs = await rig.enqueue(a, o.aJobs);
  const t0 = aJobs[0].queuedAt;
  const doneA = (): JobRecord[] => aJobs.filter((j) => j.finishedAt !== undefined);
  const meanJob = (): number => mean(doneA().map((j) => ((j.finishedAt ?? 0) - (j.claimedAt ?? 0)) / 1000));
  let complete = await rig.until(() => doneA().length >= o.soloJobs, o.timeoutMs);
  let arriveAt = Number.NaN;
  const firsts: { trial: number; job: JobRecord; aQueued: number }[] = [];
  for (let trial = 1; trial <= o.trials && complete; trial++) {
    if (trial > 1) {
      // A alone again: the pair's first jobs finished, both slots run A, and one more of A's completed.
      const before = firsts.map((f) => f.job);
      complete = await rig.until(() => before.every((j) => j.finishedAt !== undefined), o.timeoutMs);
      const base = doneA().length;
      complete &&= await rig.until(
        () => doneA().length > base && aJobs.filter((j) => j.claimedAt && !j.finishedAt).length === 2,
        o.timeoutMs,
      );
      if (!complete) break;
    }
    await sleep((meanJob() * 1000) / 2);
    const at = performance.now();
    if (trial === 1) arriveAt = at;
    const aQueued = aJobs.filter((j) => j.claimedAt === undefined).length;
    const pair = trial === 1 ? ['late-b', 'late-c'] : [`late-b${trial}`, `late-c${trial}`];
    for (const id of pair) await rig.tenant(id, 'standard');
    tenants.push(...pair);
    const queued = [await rig.enqueue(pair[0], o.lateJobs), await rig.enqueue(pair[1], o.lateJobs)];
    const pairFirsts = queued.map((q) => q[0]);
    for (const job of pairFirsts) firsts.push({ trial, job, aQueued });
    complete = await rig.until(() => pairFirsts.every((j) => j.claimedAt !== undefined), o.timeoutMs);
    if (trial < o.trials) await rig.drain(pair, 0); // cancel the pair's other jobs, leave A's running
  }

  const jobSeconds = meanJob();
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
      jobs: aJobs.filter((j) => (j.finishedAt ?? Number.POSITIVE_INFINITY) <= arriveAt).length,
      slotUtilisation: utilisation(slotBusy, t0, arriveAt, slots),
      childUtilisation: utilisation(childBusy, t0, arriveAt, slots),
      firstClaimSeconds: (firstClaim - t0) / 1000,
    },
    jobSeconds,
    jobCpuSeconds: mean(doneA().map((j) => j.cpuSeconds ?? 0)),
    arrivals: firsts.map(({ trial, job, aQueued }) => {
      const claimed = job.claimedAt ?? Number.NaN;
      const delaySeconds = (claimed - job.queuedAt) / 1000;
      const overtakenBy = aJobs.filter(
        (x) => x.claimedAt !== undefined && x.claimedAt > job.queuedAt && !(x.claimedAt >= claimed),
      ).length;
      return {
        trial,
        tenantId: job.tenantId,
        delaySeconds,
        delayJobs: delaySeconds / jobSeconds,
        overtakenBy,
        aQueued,
      };
    }),
    complete,
    failures: [],
  };
  await rig.drain(tenants);
  result.failures = failuresOf(rig, tenants);
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
