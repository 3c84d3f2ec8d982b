import { type Command, Option } from 'commander';
import type { JobView } from '../../api/schemas.ts';
import type { TenantmlClient } from '../../sdk/client.ts';
import { FINAL_JOB_STATES, type JobState } from '../../sdk/resources/jobs.ts';
import { ExitCode, emit, record, table } from '../output.ts';
import { formatEta, formatMetric, ProgressPrinter } from '../progress.ts';
import { type CommandContext, clientOf, wantsJson, wholeNumber } from './shared.ts';

export const JOB_STATES: readonly JobState[] = ['queued', 'running', ...FINAL_JOB_STATES];

function progressCell(j: JobView): string {
  const p = j.progress;
  if (j.state !== 'running' || !p) return '';
  let s = p.phase;
  if (p.totalIterations) s += ` ${p.iteration ?? 0}/${p.totalIterations}`;
  if (p.etaSeconds !== undefined) s += ` ETA ${formatEta(p.etaSeconds)}`;
  return s;
}

function progressRows(p: NonNullable<JobView['progress']>): [string, unknown][] {
  return [
    ['phase', p.phase],
    ['iteration', p.totalIterations ? `${p.iteration ?? 0} of ${p.totalIterations}` : ''],
    ['metric', p.metric ? `${p.metric.name} ${formatMetric(p.metric.value)}` : ''],
    ['time left', p.etaSeconds !== undefined ? formatEta(p.etaSeconds) : ''],
  ];
}

function poolText(p: NonNullable<JobView['spec']['pool']>): string {
  const parts = [p.tenants ? `tenants ${p.tenants.join(', ')}` : 'every consenting tenant'];
  if (p.maxRowsPerTenant !== undefined) parts.push(`at most ${p.maxRowsPerTenant} rows each`);
  if (p.features) parts.push(`features ${p.features.join(', ')}`);
  return parts.join('; ');
}

export function jobText(j: JobView): string {
  const p = j.progress;
  return record([
    ['job', j.id],
    ['model', j.model],
    ['state', j.cancelRequested && j.state === 'running' ? 'running (cancel requested)' : j.state],
    [
      'dataset',
      // A shared job reads each contributing tenant's latest version, so it has no one version number.
      j.spec.mode === 'shared'
        ? `${j.spec.dataset} (the latest version of each consenting tenant)`
        : `${j.spec.dataset} version ${j.spec.datasetVersion}`,
    ],
    ['target', j.spec.target],
    ['task', j.spec.task ?? 'inferred'],
    ['algorithm', j.spec.algorithm],
    ['mode', j.spec.mode],
    ['base', j.spec.base ? `${j.spec.base.model}@${j.spec.base.version}` : ''],
    ...(j.spec.pool ? ([['pool', poolText(j.spec.pool)]] as const) : []),
    ...(j.spec.audience
      ? ([['publish to', j.spec.audience === 'all' ? 'all tenants' : j.spec.audience.join(', ')]] as const)
      : []),
    ...(j.spec.advice ? ([['advice', j.spec.advice]] as const) : []),
    ...(j.spec.reason ? ([['queued because', j.spec.reason]] as const) : []),
    ['params', Object.keys(j.spec.params).length > 0 ? j.spec.params : ''],
    ['seed', j.spec.seed],
    ['valid fraction', j.spec.validFraction],
    ['priority', j.priority],
    ['attempts', `${j.attempts} of ${j.maxAttempts}`],
    // Progress only means something while the job runs.
    ...(j.state === 'running' && p ? progressRows(p) : []),
    ['result', j.result ? `${j.result.model} version ${j.result.version}` : ''],
    ['error', j.error],
    ['cpu seconds', Number(j.cpuSeconds.toFixed(2))],
    ['wall seconds', Number(j.wallSeconds.toFixed(2))],
    [
      'limits',
      `${j.limits.timeoutSeconds} s wall, ${j.limits.cpuSeconds} CPU-s, ${j.limits.heapMb} MiB heap`,
    ],
    ['created', j.createdAt],
    ['created by', j.createdBy],
    ['started', j.startedAt],
    ['finished', j.finishedAt],
  ]);
}

/** Waits for a job's end, reporting every change: `client.jobs.wait` or `client.shared.jobs.wait`. */
export type JobFollower = (id: string, opts: { onJob: (job: JobView) => void }) => Promise<JobView>;

/**
 * Follows a job to its end: a progress line from the event stream (polling when it drops), or one JSON
 * object per change with --json. Exits 1 with the reason unless the job succeeded. Shared-model jobs
 * pass their own `follow` (they are polled: there is no event stream for them).
 */
export async function watchJob(
  ctx: CommandContext,
  client: TenantmlClient,
  id: string,
  json: boolean,
  follow: JobFollower = (jobId, opts) => client.jobs.wait(jobId, opts),
): Promise<JobView> {
  const { io } = ctx;
  const printer = new ProgressPrinter({
    write: io.stdout,
    tty: io.isTTY === true && !json,
    columns: io.columns,
  });
  let final: JobView;
  try {
    final = await follow(id, {
      onJob: (job) => (json ? io.stdout(`${JSON.stringify(job)}\n`) : printer.update(job)),
    });
  } finally {
    printer.done();
  }
  if (final.state !== 'succeeded') {
    io.stderr(`job ${final.id} ${final.state}: ${final.error ?? 'no reason given'}\n`);
    throw new ExitCode(1);
  }
  return final;
}

export function registerJobs(program: Command, ctx: CommandContext): void {
  const jobs = program
    .command('jobs')
    .description('training jobs (tenant admin key, or operator key with --tenant)');

  jobs
    .command('list')
    .description('list training jobs, newest first')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--model <name>', 'only jobs training this model')
    .option('--limit <n>', 'at most this many (1–1000; server default 100)', wholeNumber)
    .action(async (opts: { state?: JobState; model?: string; limit?: number }, cmd: Command) => {
      const list = await clientOf(ctx, cmd).jobs.list(opts);
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['ID', 'MODEL', 'STATE', 'PROGRESS', 'ATTEMPTS', 'RESULT', 'CREATED', 'FINISHED', 'ERROR'],
          list.map((j) => [
            j.id,
            j.model,
            j.state,
            progressCell(j),
            `${j.attempts}/${j.maxAttempts}`,
            j.result ? `version ${j.result.version}` : '',
            j.createdAt,
            j.finishedAt,
            j.error,
          ]),
        ),
      );
    });

  jobs
    .command('show')
    .description('show a job: its request, state, progress, limits and outcome')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts, cmd: Command) => {
      const j = await clientOf(ctx, cmd).jobs.get(id);
      emit(ctx.io, wantsJson(cmd), j, () => jobText(j));
    });

  jobs
    .command('cancel')
    .description('cancel a job: a queued one at once, a running one within about 2 seconds')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts, cmd: Command) => {
      const j = await clientOf(ctx, cmd).jobs.cancel(id);
      emit(ctx.io, wantsJson(cmd), j, () =>
        j.state === 'cancelled'
          ? `job ${j.id} cancelled\n`
          : `cancel requested for job ${j.id} (${j.state}); \`tenantml jobs watch ${j.id}\` shows the end\n`,
      );
    });

  jobs
    .command('watch')
    .description(
      'follow a job with a progress bar until it ends; exit 0 when it succeeded, 1 when it failed, was cancelled or timed out',
    )
    .argument('<id>', 'job id')
    .action(async (id: string, _opts, cmd: Command) => {
      await watchJob(ctx, clientOf(ctx, cmd), id, wantsJson(cmd));
    });
}
