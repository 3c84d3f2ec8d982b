// `tenantml shared …` (operator key): shared models trained on the pooled data of consenting tenants or
// imported as ONNX files, who they are published to, which tenants' data trained each version, the ONNX
// file itself, and the shared namespace's jobs.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Audience, ImportSpec } from '../../sdk/resources/shared.ts';
import { emit, table, UsageError } from '../output.ts';
import { jobText, watchJob } from './jobs.ts';
import { audienceText, modelText } from './models.ts';
import { provenanceTable } from './provenance.ts';
import { type CommandContext, clientOf, integer, positiveNumber, wantsJson, wholeNumber } from './shared.ts';
import { parseParam } from './train.ts';

const TASKS = ['binary', 'multiclass', 'regression'] as const;

/** `a,b, c` → `['a', 'b', 'c']`; empty items are dropped. */
export function list(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

/** `all`, or a comma-separated list of tenant ids. */
export function audience(value: string): Audience {
  return value.trim() === 'all' ? 'all' : list(value);
}

interface SharedTrainOptions {
  dataset: string;
  target: string;
  task?: (typeof TASKS)[number];
  algorithm?: 'auto' | 'linear' | 'gbdt';
  param?: Record<string, unknown>;
  maxRowsPerTenant?: number;
  features?: string[];
  tenants?: string[];
  publish?: Audience;
  seed?: number;
  validFraction?: number;
  priority?: number;
  watch?: boolean;
}

interface ImportOptions {
  task: (typeof TASKS)[number];
  inputs: string[];
  classes?: string[];
  input?: string;
  labelOutput?: string;
  probabilitiesOutput?: string;
  valueOutput?: string;
  publish?: Audience;
  source?: string;
}

function registerSharedJobs(shared: Command, ctx: CommandContext): void {
  const jobs = shared.command('jobs').description('jobs training shared models');
  jobs
    .command('list')
    .description('list the shared namespace’s jobs, newest first')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).shared.jobs.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['ID', 'MODEL', 'STATE', 'DATASET', 'RESULT', 'CREATED', 'FINISHED', 'ERROR'],
          list.map((j) => [
            j.id,
            j.model,
            j.state,
            j.spec.dataset,
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
    .description('show a shared job: its request, state and outcome')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts, cmd: Command) => {
      const j = await clientOf(ctx, cmd).shared.jobs.get(id);
      emit(ctx.io, wantsJson(cmd), j, () => jobText(j));
    });
  jobs
    .command('watch')
    .description('follow a shared job until it ends; exit 0 when it succeeded, 1 otherwise')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      await watchJob(ctx, client, id, wantsJson(cmd), (jobId, opts) => client.shared.jobs.wait(jobId, opts));
    });
}

export function registerShared(program: Command, ctx: CommandContext): void {
  const shared = program
    .command('shared')
    .description('shared models: trained on consenting tenants’ pooled data or imported (operator key)');

  shared
    .command('train')
    .description(
      'queue a job training a new version of a shared model on the pooled, de-identified data of the tenants that consent',
    )
    .argument('<name>', 'shared model name')
    .requiredOption(
      '--dataset <name>',
      'the dataset name looked up in every consenting tenant (latest version)',
    )
    .requiredOption('--target <column>', 'the column to predict')
    .addOption(new Option('--task <task>', 'default: inferred from the target').choices(TASKS))
    .addOption(new Option('--algorithm <algorithm>', 'default auto').choices(['auto', 'linear', 'gbdt']))
    .option('--param <key=value>', 'an algorithm parameter, repeatable (docs/learning.md)', parseParam)
    .option('--max-rows-per-tenant <n>', 'rows taken at most from one tenant (at least 10)', wholeNumber)
    .option('--features <a,b,…>', 'the columns to pool (default: those most tenants share)', list)
    .option('--tenants <a,b,…>', 'only these tenants may contribute (their consent is still required)', list)
    .option('--publish <all|a,b,…>', 'publish the first version to all tenants or to these', audience)
    .option('--seed <n>', 'fixes the split and sampling', wholeNumber)
    .option('--valid-fraction <f>', 'share held out for validation, in (0, 0.5]', positiveNumber)
    .option('--priority <n>', 'higher runs first among shared jobs (default 0)', integer)
    .option('--watch', 'follow the job until it ends (exit 1 unless it succeeds)')
    .action(async (name: string, opts: SharedTrainOptions, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      const json = wantsJson(cmd);
      const job = await client.shared.train(name, {
        dataset: opts.dataset,
        target: opts.target,
        task: opts.task,
        algorithm: opts.algorithm,
        params: opts.param,
        maxRowsPerTenant: opts.maxRowsPerTenant,
        features: opts.features,
        tenants: opts.tenants,
        publish: opts.publish,
        seed: opts.seed,
        validFraction: opts.validFraction,
        priority: opts.priority,
      });
      if (!opts.watch) {
        emit(ctx.io, json, job, () => jobText(job));
        if (!json) ctx.io.stderr(`follow it with: tenantml shared jobs watch ${job.id}\n`);
        return;
      }
      if (!json) ctx.io.stdout(`job ${job.id} queued for shared model ${job.model}\n`);
      await watchJob(ctx, client, job.id, json, (id, o) => client.shared.jobs.wait(id, o));
    });

  shared
    .command('import')
    .description(
      'import a pretrained ONNX model (one float32 input [N, features]) as a new version of a shared model',
    )
    .argument('<name>', 'shared model name')
    .argument('<file>', 'the .onnx file')
    .addOption(new Option('--task <task>', 'what the model predicts').choices(TASKS).makeOptionMandatory())
    .requiredOption(
      '--inputs <a,b,…>',
      'the input columns, in the order of the input tensor’s second axis',
      list,
    )
    .option('--classes <a,b,…>', 'classifiers: class names in the order of the probabilities output', list)
    .option('--input <tensor>', 'input tensor name (default: the model’s only input)')
    .option('--label-output <tensor>', 'label output name (default label)')
    .option('--probabilities-output <tensor>', 'probabilities output name (default probabilities)')
    .option('--value-output <tensor>', 'regression output name (default value)')
    .option('--publish <all|a,b,…>', 'publish the first version to all tenants or to these', audience)
    .option('--source <text>', 'where the model comes from (kept with the version)')
    .action(async (name: string, file: string, opts: ImportOptions, cmd: Command) => {
      const path = resolve(ctx.io.cwd, file);
      const bytes = await readFile(path).catch(() => {
        throw new UsageError(`${file} is not a readable file`);
      });
      const outputs: NonNullable<ImportSpec['outputs']> = {};
      if (opts.labelOutput) outputs.label = opts.labelOutput;
      if (opts.probabilitiesOutput) outputs.probabilities = opts.probabilitiesOutput;
      if (opts.valueOutput) outputs.value = opts.valueOutput;
      const spec: ImportSpec = {
        task: opts.task,
        inputs: opts.inputs.map((n) => ({ name: n })),
        ...(opts.classes ? { classes: opts.classes } : {}),
        ...(opts.input ? { input: opts.input } : {}),
        ...(Object.keys(outputs).length > 0 ? { outputs } : {}),
        ...(opts.publish ? { publish: opts.publish } : {}),
        ...(opts.source ? { source: opts.source } : {}),
      };
      const v = await clientOf(ctx, cmd).shared.import(name, new Uint8Array(bytes), spec);
      emit(
        ctx.io,
        wantsJson(cmd),
        v,
        () =>
          `imported ${v.model} version ${v.version} (${v.task}, ${spec.inputs.length} inputs, sha256 ${v.checksum.slice(0, 12)})${
            v.live ? ', live' : ''
          }\n`,
      );
    });

  shared
    .command('list')
    .description('list shared models with their live version and audience')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).shared.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['NAME', 'LIVE', 'LATEST', 'VERSIONS', 'AUDIENCE', 'CREATED'],
          list.map((m) => [
            m.name,
            m.liveVersion,
            m.latestVersion,
            m.versions,
            audienceText(m.audience),
            m.createdAt,
          ]),
        ),
      );
    });

  shared
    .command('show')
    .description('show a shared model: its audience, every version, lineage and validation metrics')
    .argument('<name>', 'shared model name')
    .action(async (name: string, _opts, cmd: Command) => {
      const m = await clientOf(ctx, cmd).shared.get(name);
      emit(ctx.io, wantsJson(cmd), m, () => modelText(m));
    });

  shared
    .command('publish')
    .description(
      'publish a shared model to every tenant (all) or to a list of tenants, replacing the audience',
    )
    .argument('<name>', 'shared model name')
    .argument('<audience...>', '`all`, or tenant ids (separated by spaces or commas)')
    .action(async (name: string, who: string[], _opts, cmd: Command) => {
      const ids = who
        .flatMap((w) => w.split(','))
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.includes('all') && ids.length > 1)
        throw new UsageError('publish to `all` or to a list of tenants, not both');
      const target: Audience = ids[0] === 'all' ? 'all' : ids;
      const m = await clientOf(ctx, cmd).shared.publish(name, target);
      emit(ctx.io, wantsJson(cmd), m, () => `${m.name}: published to ${audienceText(m.audience)}\n`);
    });

  shared
    .command('provenance')
    .description(
      'which tenants’ dataset versions trained a version of a shared model, and how many rows each',
    )
    .argument('<name>', 'shared model name')
    .argument('<version>', 'version number', wholeNumber)
    .action(async (name: string, version: number, _opts, cmd: Command) => {
      const records = await clientOf(ctx, cmd).shared.provenance(name, version);
      emit(ctx.io, wantsJson(cmd), records, () =>
        records.length === 0
          ? `${name}@${version} was trained on no tenant’s data (imported)\n`
          : provenanceTable(records),
      );
    });

  shared
    .command('download')
    .description('download the ONNX file of a shared model version')
    .argument('<name>', 'shared model name')
    .argument('<version>', 'version number', wholeNumber)
    .option('-o, --output <file>', 'where to write it (default <name>-v<version>.onnx)')
    .action(async (name: string, version: number, opts: { output?: string }, cmd: Command) => {
      const bytes = await clientOf(ctx, cmd).shared.download(name, version);
      const path = resolve(ctx.io.cwd, opts.output ?? `${name}-v${version}.onnx`);
      await writeFile(path, bytes);
      emit(
        ctx.io,
        wantsJson(cmd),
        { model: name, version, path, bytes: bytes.length },
        () => `wrote ${name}@${version} (${bytes.length} bytes) to ${path}\n`,
      );
    });

  registerSharedJobs(shared, ctx);
}
