// CPU time of a training child, measured two ways and reconciled: the kernel's count in
// /proc/<pid>/stat (utime + stime, all threads, sampled while the child runs — the only figure left when
// the child is killed), and the child's own final process.cpuUsage() (exact to the microsecond, sent just
// before it exits on its own). The larger wins: both count the same process from its start, and the
// sampled one can only lag behind.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { type CpuReport, cpuSecondsOf } from './protocol.ts';

let ticks: number | undefined;

/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times; 100 on Linux in practice. */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) {
    ticks = 100;
    if (process.platform === 'linux') {
      try {
        const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
        if (Number.isInteger(n) && n > 0) ticks = n;
      } catch {
        // keep the Linux default
      }
    }
  }
  return ticks;
}

/**
 * utime + stime in seconds from the text of /proc/<pid>/stat. The command name (field 2) may hold spaces
 * and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string, ticksPerSecond: number): number | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After ')': field 3 (state) is index 0, so utime (field 14) is index 11 and stime (field 15) index 12.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond;
}

/** CPU seconds the process has used so far, or null when it cannot be read (gone, or not Linux). */
export async function readProcessCpuSeconds(pid: number): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
  } catch {
    return null;
  }
}

/** Keeps the best known CPU time of one child process. */
export class CpuMeter {
  private sampled = 0;
  private reported = 0;

  constructor(private readonly pid: number | undefined) {}

  /** Reads the kernel's figure now; returns the current best estimate. */
  async sample(): Promise<number> {
    if (this.pid !== undefined) {
      const s = await readProcessCpuSeconds(this.pid);
      if (s !== null && s > this.sampled) this.sampled = s;
    }
    return this.seconds;
  }

  /** Records the child's own report. */
  report(cpu: CpuReport): void {
    const s = cpuSecondsOf(cpu);
    if (s > this.reported) this.reported = s;
  }

  get seconds(): number {
    return Math.max(this.sampled, this.reported);
  }
}
