// What every benchmark reads from its command line and says about the machine it ran on.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** The number after `name` in `args`, or `fallback` when the option is absent; anything else but a number ≥ 0 is refused. */
export function numberOption(args: string[], name: string, fallback: number, usage: string): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a number ≥ 0\n${usage}`);
  return v;
}

/** `nproc N`, `CPU <model>`, (with `memory`) `N GB RAM`, `node vX` — for the header of a recorded result. */
export function machineParts(opts: { memory?: boolean } = {}): string[] {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return [
    `nproc ${cpus().length}`,
    `CPU ${model}`,
    ...(opts.memory ? [`${Math.round(totalmem() / 1024 ** 3)} GB RAM`] : []),
    `node ${process.version}`,
  ];
}

/** The median of `xs` (the mean of the middle two for an even count; NaN for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
