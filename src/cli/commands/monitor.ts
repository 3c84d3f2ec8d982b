// `tenantml monitor`: a model's monitoring windows as a table, sending feedback (true labels) from the
// command line or a file, and the model's retraining policy.
import { type Command, Option } from 'commander';
import { isTenantmlError } from '../../sdk/errors.ts';
import type { FeedbackItem, MonitoringView, PolicyView, RetrainPolicy, WindowView } from '../../sdk/index.ts';
import { MAX_FEEDBACK_ITEMS } from '../../sdk/resources/monitoring.ts';
import { DEFAULT_COOLDOWN_HOURS, DEFAULT_PROMOTE_MARGIN } from '../../services/monitoring/policy.ts';
import { emit, record, table, UsageError } from '../output.ts';
import { formatMetric } from '../progress.ts';
import {
  type CommandContext,
  clientOf,
  decimalNumber,
  readAll,
  readTextFile,
  wantsJson,
  wholeNumber,
} from './shared.ts';

interface WindowOptions {
  granularity?: 'hour' | 'day';
  from?: string;
  to?: string;
  version?: number;
  limit?: number;
}

/** The drifted features of a window, then `prediction` when the model's output drifted too. */
function driftedText(w: WindowView): string {
  const names = w.features.filter((f) => f.drifted).map((f) => f.name);
  if (w.prediction?.drifted) names.push('prediction');
  if (names.length === 0) return '';
  return `${names.join(', ')} (${Math.round(w.driftedShare * 100)}% of features)`;
}

/** `accuracy 0.91 (n=120)`, with the validation figure when feedback says it dropped. */
function performanceText(w: WindowView): string {
  const p = w.performance;
  if (!p) return '';
  let s = `${p.metric} ${formatMetric(p.value)} (n=${p.n})`;
  if (w.performanceDrop) {
    s += w.reference ? ` DROP from ${formatMetric(w.reference.value)}` : ' DROP';
  }
  return s;
}

function windowsText(v: MonitoringView, filtered: boolean): string {
  const head = record([
    ['model', v.model],
    ['live version', v.liveVersion ?? 'none'],
  ]);
  if (v.windows.length === 0) {
    let why: string;
    if (filtered) why = 'no monitoring windows match these filters';
    else if (v.liveVersion === null)
      why = `no monitoring windows: ${v.model} has no live version, and only a model with a live version is watched (tenantml models promote)`;
    else
      why = `no monitoring windows yet: the monitoring loop (worker role, every TENANTML_MONITOR_INTERVAL_SECONDS) folds ${v.model}'s logged predictions into windows; predict with it and look again after a cycle`;
    return `${head}\n${why}\n`;
  }
  return `${head}\n${table(
    ['START', 'VERSION', 'ROWS', 'STATUS', 'DRIFTED', 'PERFORMANCE'],
    v.windows.map((w) => [w.start, w.version, w.rows, w.status, driftedText(w), performanceText(w)]),
  )}`;
}

/**
 * A label as typed on the command line: a number (`3.5`, regression values) or `true`/`false` as JSON,
 * anything else as text. Classification compares labels as text, so `1` and `"1"` agree.
 */
function parseLabel(text: string): string | number | boolean {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
  return text;
}

const isLabel = (v: unknown): v is string | number | boolean =>
  (typeof v === 'string' && v.length > 0) ||
  (typeof v === 'number' && Number.isFinite(v)) ||
  typeof v === 'boolean';

/**
 * Feedback items from a JSON array or JSON Lines of `{predictionId, label}`; `where` names the source,
 * and a bad entry is named by its line (JSON Lines) or its index (an array).
 */
function parseFeedbackText(text: string, where: string): FeedbackItem[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new UsageError(`${where} holds no labels`);
  const entries: { at: string; value: unknown }[] = [];
  if (trimmed.startsWith('[')) {
    let all: unknown;
    try {
      all = JSON.parse(trimmed);
    } catch {
      throw new UsageError(`${where} is not valid JSON`);
    }
    (all as unknown[]).forEach((value, i) => {
      entries.push({ at: `item ${i}`, value });
    });
  } else {
    const lines = trimmed.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '') continue;
      try {
        entries.push({ at: `line ${i + 1}`, value: JSON.parse(line) });
      } catch {
        throw new UsageError(`${where}: line ${i + 1} is not JSON`);
      }
    }
  }
  if (entries.length === 0) throw new UsageError(`${where} holds no labels`);
  return entries.map(({ at, value }) => {
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new UsageError(`${where}: ${at} is not an object {predictionId, label}`);
    if (typeof v.predictionId !== 'string' || v.predictionId === '')
      throw new UsageError(`${where}: ${at} has no predictionId`);
    if (!isLabel(v.label))
      throw new UsageError(`${where}: ${at}: label must be a string, a finite number or a boolean`);
    return { predictionId: v.predictionId, label: v.label };
  });
}

interface PolicyOptions {
  onDrift?: boolean;
  onPerformanceDrop?: number;
  onNewRows?: number;
  schedule?: string;
  promoteMargin?: number;
  cooldownHours?: number;
  delete?: boolean;
}

/** The policy the flags describe, or null when no policy flag was given (then the command shows it). */
function policyFromFlags(opts: PolicyOptions): RetrainPolicy | null {
  const p: RetrainPolicy = {};
  if (opts.onDrift) p.onDrift = true;
  if (opts.onPerformanceDrop !== undefined) p.onPerformanceDrop = opts.onPerformanceDrop;
  if (opts.onNewRows !== undefined) p.onNewRows = opts.onNewRows;
  if (opts.schedule !== undefined) p.schedule = opts.schedule;
  if (opts.promoteMargin !== undefined) p.promoteMargin = opts.promoteMargin;
  if (opts.cooldownHours !== undefined) p.cooldownHours = opts.cooldownHours;
  return Object.keys(p).length > 0 ? p : null;
}

function policyText(v: PolicyView): string {
  const p = v.policy;
  const triggers = [p.onDrift, p.onPerformanceDrop, p.onNewRows, p.schedule].some((x) => x !== undefined);
  return (
    record([
      ['model', v.model],
      ['on drift', p.onDrift ?? false],
      ['on performance drop', p.onPerformanceDrop],
      ['on new rows', p.onNewRows],
      ['schedule', p.schedule ? `${p.schedule} (UTC)` : undefined],
      ['promote margin', p.promoteMargin ?? `${DEFAULT_PROMOTE_MARGIN} (default)`],
      ['cooldown hours', p.cooldownHours ?? `${DEFAULT_COOLDOWN_HOURS} (default)`],
      ['last fired', v.lastFiredAt],
      ['last trigger', v.lastTrigger],
      ['updated', v.updatedAt],
    ]) + (triggers ? '' : 'no trigger set: the model is only watched\n')
  );
}

function addWindowOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--granularity <width>', 'window width (default: the server’s)').choices(['hour', 'day']),
    )
    .option('--from <time>', 'ISO time: windows starting at or after it')
    .option('--to <time>', 'ISO time: windows starting before it')
    .option('--version <n>', 'only this model version’s windows', wholeNumber)
    .option('--limit <n>', 'at most this many windows, newest first (server default 168)', wholeNumber);
}

export function registerMonitor(program: Command, ctx: CommandContext): void {
  const showWindows = async (model: string, _opts: WindowOptions, cmd: Command): Promise<void> => {
    // `monitor windows` repeats the parent's options, and the parent reads them wherever they stand on the
    // line: merged, they are found on either command.
    const all = cmd.optsWithGlobals<WindowOptions>();
    const opts: WindowOptions = {
      granularity: all.granularity,
      from: all.from,
      to: all.to,
      version: all.version,
      limit: all.limit,
    };
    const v = await clientOf(ctx, cmd).models.monitoring(model, opts);
    const filtered = [opts.from, opts.to, opts.version].some((x) => x !== undefined);
    emit(ctx.io, wantsJson(cmd), v, () => windowsText(v, filtered));
  };

  const monitor = addWindowOptions(
    program
      .command('monitor')
      .description(
        'a model’s monitoring windows: rows, status, drifted features, performance from feedback (tenant admin key, or operator key with --tenant)',
      )
      .argument('<model>', 'model name'),
  )
    .addHelpText(
      'after',
      '\nA model named "feedback", "policy" or "windows" is shown with: tenantml monitor windows <model>',
    )
    .action(showWindows);

  addWindowOptions(
    monitor
      .command('windows')
      .description('the same table as `tenantml monitor <model>`')
      .argument('<model>', 'model name'),
  ).action(showWindows);

  monitor
    .command('feedback')
    .description('send the true labels of predictions (any tenant key, or operator key with --tenant)')
    .argument('<model>', 'model name')
    .option(
      '--file <path>',
      'JSON Lines (or a JSON array) of {"predictionId": …, "label": …}; - reads standard input',
    )
    .option('--prediction-id <id>', 'one prediction’s id, from the predict answer')
    .option('--label <label>', 'its true class or value (a number, true or false is sent as such)')
    .action(
      async (model: string, opts: { file?: string; predictionId?: string; label?: string }, cmd: Command) => {
        const one = opts.predictionId !== undefined || opts.label !== undefined;
        if (opts.file !== undefined && one)
          throw new UsageError('give either --file or --prediction-id with --label, not both');
        let items: FeedbackItem[];
        if (opts.file !== undefined) {
          let text: string;
          if (opts.file === '-') {
            if (!ctx.io.stdin) throw new UsageError('no standard input to read');
            text = await readAll(ctx.io.stdin);
          } else {
            text = await readTextFile(ctx, opts.file);
          }
          items = parseFeedbackText(text, opts.file === '-' ? 'standard input' : opts.file);
        } else {
          if (opts.predictionId === undefined || opts.label === undefined)
            throw new UsageError('give --prediction-id and --label, or --file');
          items = [{ predictionId: opts.predictionId, label: parseLabel(opts.label) }];
        }
        const fromFlags = opts.file === undefined;
        const client = clientOf(ctx, cmd);
        const total = { accepted: 0, duplicates: 0 };
        // The server takes 1000 labels a request; a bigger file goes in slices, and a refusal says how
        // far the file got, since the slices before it are stored.
        for (let i = 0; i < items.length; i += MAX_FEEDBACK_ITEMS) {
          const slice = items.slice(i, i + MAX_FEEDBACK_ITEMS);
          try {
            // One label from the flags goes as one, so that a refusal names `predictionId`, not `items[0]`.
            const r = await client.models.feedback(model, fromFlags ? slice[0] : slice);
            total.accepted += r.accepted;
            total.duplicates += r.duplicates;
          } catch (e) {
            if (i > 0 && isTenantmlError(e))
              ctx.io.stderr(
                `labels 1-${i} were sent (${total.accepted} accepted, ${total.duplicates} duplicates); labels from ${i + 1} on were not (field names count from label ${i + 1})\n`,
              );
            throw e;
          }
        }
        emit(
          ctx.io,
          wantsJson(cmd),
          total,
          () =>
            `${model}: ${total.accepted} label${total.accepted === 1 ? '' : 's'} accepted, ${total.duplicates} duplicate${total.duplicates === 1 ? '' : 's'} (a prediction keeps its first label)\n`,
        );
      },
    );

  monitor
    .command('policy')
    .description(
      'show a model’s retraining policy; with trigger flags, replace it (flags left out are off); --delete removes it (tenant admin key)',
    )
    .argument('<model>', 'model name')
    .option('--on-drift', 'retrain when a window of the live version shows dataset drift')
    .option(
      '--on-performance-drop <m>',
      'retrain when feedback accuracy is this many points (0–1) below validation (RMSE: this much above, relative)',
      decimalNumber,
    )
    .option('--on-new-rows <n>', 'retrain when the training dataset has gained this many rows', wholeNumber)
    .option('--schedule <cron>', 'retrain on a five-field cron schedule, UTC (e.g. "0 3 * * 1")')
    .option(
      '--promote-margin <m>',
      `how much a retrained version must beat the live one by (default ${DEFAULT_PROMOTE_MARGIN})`,
      decimalNumber,
    )
    .option(
      '--cooldown-hours <h>',
      `fewest hours between two retrainings it fires (default ${DEFAULT_COOLDOWN_HOURS})`,
      decimalNumber,
    )
    .option('--delete', 'remove the policy (the model is still watched and alerts still go out)')
    .action(async (model: string, opts: PolicyOptions, cmd: Command) => {
      const policy = policyFromFlags(opts);
      const client = clientOf(ctx, cmd);
      const json = wantsJson(cmd);
      if (opts.delete) {
        if (policy) throw new UsageError('--delete takes no other policy flag');
        await client.models.policy.delete(model);
        emit(ctx.io, json, { deleted: model }, () => `${model}: retraining policy removed\n`);
        return;
      }
      if (policy) {
        const v = await client.models.policy.put(model, policy);
        emit(ctx.io, json, v, () => policyText(v));
        return;
      }
      let v: PolicyView;
      try {
        v = await client.models.policy.get(model);
      } catch (e) {
        // A missing policy and a missing model are both not_found: tell them apart by asking for the model.
        if (!isTenantmlError(e) || e.code !== 'not_found') throw e;
        await client.models.get(model);
        emit(ctx.io, json, null, () => `${model} has no retraining policy (set one with trigger flags)\n`);
        return;
      }
      emit(ctx.io, json, v, () => policyText(v));
    });
}
