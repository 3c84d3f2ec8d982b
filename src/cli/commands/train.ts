import { type Command, InvalidArgumentError, Option } from 'commander';
import type { TrainRequest } from '../../api/schemas.ts';
import { emit } from '../output.ts';
import { jobText, watchJob } from './jobs.ts';
import { type CommandContext, clientOf, integer, positiveNumber, wantsJson, wholeNumber } from './shared.ts';

type Params = Record<string, unknown>;

/**
 * `--param key=value`, repeatable. The value is JSON when it parses as JSON (`20`, `0.1`, `true`,
 * `{"yes":2}`), else the text itself (`--param growPolicy=lossguide`).
 */
export function parseParam(value: string, previous: Params = {}): Params {
  const eq = value.indexOf('=');
  const key = eq === -1 ? '' : value.slice(0, eq).trim();
  if (!key) throw new InvalidArgumentError('expected key=value, e.g. nRounds=200');
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // not JSON: a string
  }
  return { ...previous, [key]: parsed };
}

interface TrainOptions {
  dataset: string;
  target: string;
  version?: number;
  task?: TrainRequest['task'];
  algorithm?: TrainRequest['algorithm'];
  mode?: TrainRequest['mode'];
  base?: string;
  param?: Params;
  seed?: number;
  validFraction?: number;
  priority?: number;
  watch?: boolean;
}

export function registerTrain(program: Command, ctx: CommandContext): void {
  program
    .command('train')
    .description(
      'queue a training job for a new version of a model (tenant admin key, or operator key with --tenant)',
    )
    .argument('<model>', 'model name')
    .requiredOption('--dataset <name>', 'the dataset to train on')
    .requiredOption('--target <column>', 'the column to predict')
    .option('--version <n>', 'dataset version (default: the latest)', wholeNumber)
    .addOption(
      new Option('--task <task>', 'default: inferred from the target').choices([
        'binary',
        'multiclass',
        'regression',
      ]),
    )
    .addOption(new Option('--algorithm <algorithm>', 'default auto').choices(['auto', 'linear', 'gbdt']))
    .addOption(
      new Option(
        '--mode <mode>',
        'tenant: trained on this tenant’s data alone (default); tuned: a shared model further trained on it (needs --base)',
      ).choices(['tenant', 'tuned']),
    )
    .option(
      '--base <shared[@version]>',
      'tuned models: the shared model to start from, published to this tenant and trained on the platform (not imported); default its live version',
    )
    .option(
      '--param <key=value>',
      'an algorithm or featurizer parameter, repeatable; the value is read as JSON when it parses (docs/learning.md)',
      parseParam,
    )
    .option('--seed <n>', 'fixes the split and sampling (default: from the job id)', wholeNumber)
    .option(
      '--valid-fraction <f>',
      'share held out for validation, in (0, 0.5] (default 0.2)',
      positiveNumber,
    )
    .option('--priority <n>', 'higher runs first among this tenant’s jobs (default 0)', integer)
    .option('--watch', 'follow the job with a progress bar until it ends (exit 1 unless it succeeds)')
    .action(async (model: string, opts: TrainOptions, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      const json = wantsJson(cmd);
      const job = await client.models.train(model, {
        dataset: opts.dataset,
        target: opts.target,
        version: opts.version,
        task: opts.task,
        algorithm: opts.algorithm,
        mode: opts.mode,
        base: opts.base,
        params: opts.param,
        seed: opts.seed,
        validFraction: opts.validFraction,
        priority: opts.priority,
      });
      if (!opts.watch) {
        emit(ctx.io, json, job, () => jobText(job));
        if (!json) ctx.io.stderr(`follow it with: tenantml jobs watch ${job.id}\n`);
        return;
      }
      if (!json) ctx.io.stdout(`job ${job.id} queued for model ${job.model}\n`);
      await watchJob(ctx, client, job.id, json);
    });
}
