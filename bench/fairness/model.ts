// A discrete-event model of the weighted-shares scenario, pure: busy slots take the next job in the real
// scheduler's order (fairShareOrder, decayUsage), jobs of jittered CPU run at a fixed CPU rate per slot,
// usage is charged at the end of a job. It separates the scheduler's own behaviour (the steady-state bias
// under decay) from the noise of a loaded machine: `npm run bench -- fairness --model`.
import { decayUsage, fairShareOrder } from '../../src/jobs/fair-share.ts';
import { cpuWindow, type Served } from './measure.ts';

export interface ModelOptions {
  weights: readonly number[];
  slots: number;
  /** Mean CPU-seconds of a job; each job is jittered ±20%. */
  jobCpu: number;
  /** CPU-seconds a slot delivers per wall second (1 on an idle core; ~0.3 on this shared machine). */
  cpuRate: number;
  halfLifeSeconds: number;
  warmupCpu: number;
  windowCpu: number;
  seed: number;
}

/** CPU-seconds served per tenant (`t0`, `t1`, …) in the window, and the window's wall seconds. */
export function modelShares(o: ModelOptions): { served: Record<string, number>; seconds: number } {
  let state = o.seed >>> 0 || 1;
  const random = (): number => {
    state = (state * 1664525 + 1013904223) >>> 0; // a plain LCG: reproducible, good enough for jitter
    return state / 2 ** 32;
  };
  const ids = o.weights.map((_, i) => `t${i}`);
  const usage = ids.map(() => ({ value: 0, at: 0 }));
  const running: { tenant: number; end: number; cpu: number }[] = [];
  const done: Served[] = [];
  let now = 0;
  let total = 0;
  while (total < o.warmupCpu + o.windowCpu + 4 * o.jobCpu) {
    while (running.length < o.slots) {
      const loads = o.weights.map((weight, i) => ({
        tenantId: ids[i],
        running: running.filter((r) => r.tenant === i).length,
        decayedCpuSeconds: decayUsage(usage[i].value, usage[i].at, now, o.halfLifeSeconds),
        weight,
        cap: o.slots,
        oldestQueuedAt: i,
      }));
      const next = ids.indexOf(fairShareOrder(loads, { running: running.length, cap: o.slots })[0]);
      const cpu = o.jobCpu * (0.8 + 0.4 * random());
      running.push({ tenant: next, end: now + (cpu / o.cpuRate) * 1000, cpu });
    }
    running.sort((a, b) => a.end - b.end);
    const job = running.shift();
    if (!job) break;
    now = job.end;
    const u = usage[job.tenant];
    u.value = decayUsage(u.value, u.at, now, o.halfLifeSeconds) + job.cpu;
    u.at = now;
    done.push({ tenantId: ids[job.tenant], at: now, cpuSeconds: job.cpu });
    total += job.cpu;
  }
  const w = cpuWindow(done, ids, o.warmupCpu, o.windowCpu);
  return { served: w.served, seconds: (w.to - w.from) / 1000 };
}

/** Quantiles (min, 10%, median, 90%, max) of a sample. */
export function quantiles(xs: readonly number[]): [number, number, number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return [q(0), q(0.1), q(0.5), q(0.9), q(1)];
}
