import type { Command } from 'commander';
import type { AdviceView, ModelDetailView, ModelVersionView } from '../../api/schemas.ts';
import type { Audience } from '../../sdk/resources/shared.ts';
import { ExitCode, emit, record, table } from '../output.ts';
import { formatMetric } from '../progress.ts';
import { type CommandContext, clientOf, wantsJson, wholeNumber } from './shared.ts';

const ref = (r: { model: string; version: number } | null): string => (r ? `${r.model}@${r.version}` : '');

/** `tenant/dataset@version (rows)` for each dataset version that trained it: the version's lineage. */
export function lineage(v: ModelVersionView): string {
  return v.datasets.map((d) => `${d.tenantId}/${d.name}@${d.version} (${d.rows} rows)`).join(', ');
}

function metricsTable(v: ModelVersionView): string {
  const rows = Object.entries(v.metrics).map(([name, value]) => [
    name,
    typeof value === 'number' ? formatMetric(value) : value,
  ]);
  return rows.length > 0 ? table(['METRIC', 'VALUE'], rows) : 'no metrics recorded\n';
}

/** `all tenants`, or the tenant ids. */
export function audienceText(a: Audience | null): string {
  if (a === null) return 'not published';
  return a === 'all' ? 'all tenants' : a.join(', ');
}

/** A model with its versions as `models show` prints it (shared models too: `shared show`). */
export function modelText(m: ModelDetailView): string {
  let out = record([
    ['model', m.name],
    ['live version', m.liveVersion ?? 'none'],
    ['latest version', m.latestVersion],
    ['versions', m.versions],
    // Only shared models have an audience; tenant models leave the line out.
    ...(m.audience !== null ? [['audience', audienceText(m.audience)] as const] : []),
    ['created', m.createdAt],
  ]);
  const versions = [...m.versionList].sort((a, b) => b.version - a.version);
  out += `\n${table(
    [
      'VERSION',
      'LIVE',
      'MODE',
      'TASK',
      'ALGORITHM',
      'TRAINED ON',
      'BASE',
      'JOB',
      'CREATED',
      'CHECKSUM',
      'STATUS',
    ],
    versions.map((v) => [
      v.version,
      v.live,
      v.mode,
      v.task,
      v.algorithm,
      lineage(v),
      v.base ? `${v.base.model}@${v.base.version}` : '',
      v.jobId,
      v.createdAt,
      v.checksum.slice(0, 12),
      v.taint ? `${v.status}: ${v.taint.reason}` : v.status,
    ]),
  )}`;
  // The metrics of the version that answers predictions (else the newest), one per line.
  const shown = versions.find((v) => v.live) ?? versions[0];
  if (shown) out += `\nvalidation metrics of version ${shown.version}:\n${metricsTable(shown)}`;
  if (m.liveHistory.length > 0) {
    out += `\nlive version history:\n${table(
      ['AT', 'CHANGE', 'FROM', 'TO', 'BY'],
      m.liveHistory.map((h) => [h.at, h.reason, h.fromVersion ?? 'none', h.toVersion, h.actor]),
    )}`;
  }
  return out;
}

/** The comparison an advice ended with: one row per candidate, the pick and why. */
function adviceResultText(r: NonNullable<AdviceView['result']>): string {
  const rows = r.candidates.map((c) => [
    c.mode === r.recommendation ? `${c.mode} *` : c.mode,
    ref(c.ref),
    c.score === null ? '' : formatMetric(c.score),
    Object.entries(c.metrics)
      .filter(([k]) => k !== r.metric.name)
      .map(([k, v]) => `${k}=${formatMetric(v)}`)
      .join(' '),
  ]);
  let out = `compared on ${r.validRows} held-out rows by ${r.metric.name} (${
    r.metric.higherIsBetter ? 'higher' : 'lower'
  } is better):\n`;
  out += table(['CANDIDATE', 'VERSION', r.metric.name.toUpperCase(), 'OTHER METRICS'], rows);
  out += `\nrecommendation: ${r.recommendation}\n`;
  for (const reason of r.reasons) out += `  - ${reason}\n`;
  if (r.promoted) out += `made live: ${ref(r.promoted)}\n`;
  return out;
}

function adviceText(a: AdviceView): string {
  let out = record([
    ['advice', a.id],
    ['model', a.model],
    ['state', a.state],
    ['dataset', `${a.dataset} version ${a.datasetVersion}`],
    ['target', a.target],
    ['shared model', a.shared ? ref(a.shared) : 'none published to this tenant'],
    ['tenant job', a.jobs.tenant],
    ['tuned job', a.jobs.tuned ?? (a.shared ? 'none (the shared model cannot be tuned)' : 'none')],
    ['auto promote', a.autoPromote],
    ['error', a.error],
    ['created', a.createdAt],
    ['finished', a.finishedAt],
  ]);
  if (a.result) out += `\n${adviceResultText(a.result)}`;
  return out;
}

export function registerModels(program: Command, ctx: CommandContext): void {
  const models = program
    .command('models')
    .description('the tenant’s models (tenant admin key, or operator key with --tenant)');

  models
    .command('list')
    .description('list models with their latest and live versions')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).models.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['NAME', 'LIVE', 'LATEST', 'VERSIONS', 'CREATED'],
          list.map((m) => [m.name, m.liveVersion, m.latestVersion, m.versions, m.createdAt]),
        ),
      );
    });

  models
    .command('show')
    .description('show a model: every version, which is live, its lineage and validation metrics')
    .argument('<name>', 'model name')
    .action(async (name: string, _opts, cmd: Command) => {
      const m = await clientOf(ctx, cmd).models.get(name);
      emit(ctx.io, wantsJson(cmd), m, () => modelText(m));
    });

  models
    .command('promote')
    .description('make a version the live one (the one that answers predictions)')
    .argument('<name>', 'model name')
    .argument('<version>', 'version number', wholeNumber)
    .action(async (name: string, version: number, _opts, cmd: Command) => {
      const m = await clientOf(ctx, cmd).models.promote(name, version);
      emit(ctx.io, wantsJson(cmd), m, () => `${name}: version ${m.liveVersion} is live\n\n${modelText(m)}`);
    });

  models
    .command('advise')
    .description(
      'compare tenant-specific, shared and tuned for this model on the same held-out rows of a dataset (trains the candidates as jobs)',
    )
    .argument('<name>', 'model name (a shared model of the same name is the shared candidate)')
    .requiredOption('--dataset <name>', 'the dataset to train and measure on')
    .requiredOption('--target <column>', 'the column to predict')
    .option('--version <n>', 'dataset version (default: the latest)', wholeNumber)
    .option('--auto-promote', 'make the recommended own candidate (tenant or tuned) live when done')
    .option('--wait', 'wait for the jobs and print the comparison (exit 1 when the advice failed)')
    .action(
      async (
        name: string,
        opts: { dataset: string; target: string; version?: number; autoPromote?: boolean; wait?: boolean },
        cmd: Command,
      ) => {
        const client = clientOf(ctx, cmd);
        const json = wantsJson(cmd);
        const advice = await client.models.advise(name, {
          dataset: opts.dataset,
          target: opts.target,
          version: opts.version,
          autoPromote: opts.autoPromote,
        });
        if (!opts.wait) {
          emit(ctx.io, json, advice, () => adviceText(advice));
          if (!json) ctx.io.stderr(`see the result with: tenantml models advice ${name}\n`);
          return;
        }
        if (!json) {
          const jobs = [advice.jobs.tenant, advice.jobs.tuned].filter(Boolean);
          ctx.io.stdout(
            `advice ${advice.id} running: waiting for ${jobs.length > 1 ? 'jobs' : 'job'} ${jobs.join(', ')}\n`,
          );
        }
        const done = await client.models.waitAdvice(name, advice.id);
        emit(ctx.io, json, done, () => adviceText(done));
        if (done.state !== 'done') throw new ExitCode(1);
      },
    );

  models
    .command('advice')
    .description('list the advice given for a model, newest first, with the newest comparison')
    .argument('<name>', 'model name')
    .action(async (name: string, _opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).models.advice(name);
      emit(ctx.io, wantsJson(cmd), list, () => {
        let out = table(
          ['ID', 'STATE', 'DATASET', 'SHARED', 'RECOMMENDATION', 'PROMOTED', 'CREATED', 'FINISHED'],
          list.map((a) => [
            a.id,
            a.state,
            `${a.dataset}@${a.datasetVersion}`,
            ref(a.shared),
            a.result?.recommendation,
            ref(a.result?.promoted ?? null),
            a.createdAt,
            a.finishedAt,
          ]),
        );
        const newest = list.find((a) => a.state !== 'running');
        if (newest?.result) out += `\nadvice ${newest.id}: ${adviceResultText(newest.result)}`;
        else if (newest?.error) out += `\nadvice ${newest.id} failed: ${newest.error}\n`;
        return out;
      });
    });

  models
    .command('rollback')
    .description('make live again the version that was live before the current one')
    .argument('<name>', 'model name')
    .action(async (name: string, _opts, cmd: Command) => {
      const m = await clientOf(ctx, cmd).models.rollback(name);
      emit(ctx.io, wantsJson(cmd), m, () => `${name}: version ${m.liveVersion} is live\n\n${modelText(m)}`);
    });
}
