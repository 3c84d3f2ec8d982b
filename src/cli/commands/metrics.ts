// `tenantml metrics`: the server's Prometheus metrics (operator key), all of them or those whose name
// holds a given text; `--json` turns the samples into {name, labels, value} records
// (docs/observability.md lists every metric).
import type { Command } from 'commander';
import { emit } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;

/** A sample's value: a number, NaN or ±Inf (JSON prints the infinities as null); undefined for anything else. */
function sampleValue(text: string): number | undefined {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    const value = m ? sampleValue(m[3] as string) : undefined;
    if (!m || value === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

/** The exposition lines of the metrics whose name holds `part` (their HELP and TYPE lines included). */
function filterExposition(text: string, part: string): string {
  const keep = (line: string): boolean => {
    const name = line.startsWith('# ') ? (line.split(' ')[2] ?? '') : (SAMPLE.exec(line)?.[1] ?? '');
    return name.includes(part);
  };
  const lines = text.split('\n').filter((l) => l !== '' && keep(l));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function registerMetrics(program: Command, ctx: CommandContext): void {
  program
    .command('metrics')
    .description("print the server's Prometheus metrics (operator key)")
    .option('--name <text>', 'only the metrics whose name holds this text (e.g. http_requests, usage)')
    .action(async (opts: { name?: string }, cmd: Command) => {
      const text = await clientOf(ctx, cmd).metrics();
      const shown = opts.name === undefined ? text : filterExposition(text, opts.name);
      emit(ctx.io, wantsJson(cmd), parseExposition(shown), () => shown);
    });
}
