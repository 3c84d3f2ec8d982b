// `tenantml predict`: rows in (a JSON argument, a JSON or JSON Lines file, or standard input), one line per
// prediction out: the label with each class's probability, or the value, and the prediction id that
// feedback refers to.
import type { Command } from 'commander';
import type { PredictResponse } from '../../api/inference-schemas.ts';
import { emit, table, UsageError } from '../output.ts';
import { formatMetric } from '../progress.ts';
import { type CommandContext, clientOf, readAll, readTextFile, wantsJson } from './shared.ts';

const isRow = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Instances from text: a JSON array of objects, one JSON object, or JSON Lines (one object per line,
 * blank lines skipped). `where` names the source in errors; a bad line is named by its number.
 */
function parseInstances(text: string, where: string): Record<string, unknown>[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new UsageError(`${where} holds no instances`);
  let whole: unknown;
  let parsed = false;
  try {
    whole = JSON.parse(trimmed);
    parsed = true;
  } catch {
    // not one JSON document: JSON Lines, read below
  }
  if (parsed) {
    const rows = Array.isArray(whole) ? whole : [whole];
    if (rows.length === 0) throw new UsageError(`${where} holds no instances`);
    const bad = rows.findIndex((r) => !isRow(r));
    if (bad !== -1) throw new UsageError(`${where}: instance ${bad} is not a JSON object`);
    return rows as Record<string, unknown>[];
  }
  if (trimmed.startsWith('[')) throw new UsageError(`${where} is not valid JSON`);
  const rows: Record<string, unknown>[] = [];
  const lines = trimmed.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UsageError(`${where}: line ${i + 1} is not JSON`);
    }
    if (!isRow(row)) throw new UsageError(`${where}: line ${i + 1} is not a JSON object`);
    rows.push(row);
  }
  return rows;
}

/** The predictions as a table: `#`, then the label and one probability column per class, or the value. */
function predictionsText(r: PredictResponse): string {
  const classes: string[] = [];
  for (const p of r.predictions)
    for (const c of Object.keys(p.probabilities ?? {})) if (!classes.includes(c)) classes.push(c);
  const regression = r.predictions.some((p) => p.value !== undefined);
  const headers = regression
    ? ['#', 'VALUE', 'PREDICTION ID']
    : ['#', 'LABEL', ...classes.map((c) => `P(${c})`), 'PREDICTION ID'];
  const rows = r.predictions.map((p, i) =>
    regression
      ? [i, p.value === undefined ? '' : formatMetric(p.value), p.id]
      : [
          i,
          p.label,
          ...classes.map((c) => {
            const v = p.probabilities?.[c];
            return v === undefined ? '' : v.toFixed(4);
          }),
          p.id,
        ],
  );
  return `model ${r.model.name} version ${r.model.version} (${r.model.mode}), request ${r.id}\n${table(headers, rows)}`;
}

export function registerPredict(program: Command, ctx: CommandContext): void {
  program
    .command('predict')
    .description(
      'predict with a model: the tenant’s live version, else a shared model published to it (any tenant key, or operator key with --tenant)',
    )
    .argument('<model>', 'model name')
    .option('--instances <json>', 'the rows as JSON: an array of {feature: value} objects, or one object')
    .option('--file <path>', 'read the rows from a JSON file (array or object) or a JSON Lines file')
    .addHelpText(
      'after',
      '\nWithout --instances or --file, the rows are read from standard input (JSON or JSON Lines).',
    )
    .action(async (model: string, opts: { instances?: string; file?: string }, cmd: Command) => {
      if (opts.instances !== undefined && opts.file !== undefined)
        throw new UsageError('give either --instances or --file, not both');
      let instances: Record<string, unknown>[];
      if (opts.instances !== undefined) {
        instances = parseInstances(opts.instances, '--instances');
      } else if (opts.file !== undefined) {
        instances = parseInstances(await readTextFile(ctx, opts.file), opts.file);
      } else {
        const stdin = ctx.io.stdin;
        // A terminal on standard input means nothing was piped: say so rather than wait for typing.
        if (!stdin || (stdin as { isTTY?: boolean }).isTTY)
          throw new UsageError('give the rows with --instances <json> or --file <path>, or pipe them in');
        instances = parseInstances(await readAll(stdin), 'standard input');
      }
      const r = await clientOf(ctx, cmd).models.predict(model, instances);
      emit(ctx.io, wantsJson(cmd), r, () => predictionsText(r));
    });
}
