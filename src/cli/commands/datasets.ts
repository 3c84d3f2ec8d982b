import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { DatasetDetail, DatasetVersionView } from '../../api/schemas.ts';
import { DATASET_FORMATS, type DatasetFormat, formatFromFileName } from '../../sdk/body.ts';
import { uploadFile } from '../../sdk/node.ts';
import { emit, record, table, UsageError } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

function columnsTable(v: DatasetVersionView): string {
  return table(
    ['COLUMN', 'TYPE', 'NULLABLE', 'MISSING', 'DISTINCT', 'IDENTIFYING'],
    v.schema.columns.map((c) => [
      c.name,
      c.type,
      c.nullable,
      c.missing,
      c.distinctApprox ? `${c.distinct}+` : c.distinct,
      c.identifying ? `yes (${c.identifyingReasons.join(', ')})` : 'no',
    ]),
  );
}

function versionText(v: DatasetVersionView): string {
  return (
    record([
      ['dataset', v.name],
      ['version', v.version],
      ['rows', v.rows],
      ['format', v.format],
      ['sha256', v.sha256],
      ['stored bytes', v.storedBytes],
      ['created', v.createdAt],
      ['created by', v.createdBy],
    ]) + `\n${columnsTable(v)}`
  );
}

function detailText(d: DatasetDetail): string {
  let out = record([
    ['dataset', d.name],
    ['latest version', d.latestVersion],
    ['created', d.createdAt],
  ]);
  out += `\n${table(
    ['VERSION', 'ROWS', 'FORMAT', 'STORED BYTES', 'CREATED', 'CREATED BY'],
    d.versions.map((v) => [v.version, v.rows, v.format, v.storedBytes, v.createdAt, v.createdBy]),
  )}`;
  const latest = d.versions.find((v) => v.version === d.latestVersion);
  if (latest) out += `\n${columnsTable(latest)}`;
  if (d.preview.columns.length > 0) {
    out += `\npreview of version ${d.preview.version}:\n${table(d.preview.columns, d.preview.rows)}`;
  }
  return out;
}

export function registerDatasets(program: Command, ctx: CommandContext): void {
  const datasets = program
    .command('datasets')
    .description('manage the tenant’s datasets (tenant admin key, or operator key with --tenant)');

  datasets
    .command('upload')
    .description('upload a file as a new version of a dataset (CSV, JSON array or JSON Lines)')
    .argument('<name>', 'dataset name')
    .argument('<file>', 'path to the file, or - for standard input (then --format is required)')
    .addOption(
      new Option('--format <format>', 'default: from the file name (.csv, .json, .ndjson, .jsonl)').choices(
        DATASET_FORMATS,
      ),
    )
    .action(async (name: string, file: string, opts: { format?: DatasetFormat }, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      let v: DatasetVersionView;
      if (file === '-') {
        if (!opts.format) throw new UsageError('reading standard input needs --format csv|json|ndjson');
        if (!ctx.io.stdin) throw new UsageError('no standard input to read');
        v = await client.datasets.upload(name, ctx.io.stdin, { format: opts.format });
      } else {
        const path = resolve(ctx.io.cwd, file);
        const format = opts.format ?? formatFromFileName(path);
        if (!format) {
          throw new UsageError(
            `cannot tell the format of ${file}; name it .csv/.json/.ndjson/.jsonl or add --format`,
          );
        }
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) throw new UsageError(`${file} is not a readable file`);
        v = await uploadFile(client, name, path, { format });
      }
      emit(ctx.io, wantsJson(cmd), v, () => versionText(v));
    });

  datasets
    .command('list')
    .description('list datasets')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).datasets.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['NAME', 'LATEST', 'VERSIONS', 'CREATED'],
          list.map((d) => [d.name, d.latestVersion, d.versions, d.createdAt]),
        ),
      );
    });

  datasets
    .command('get')
    .description('show a dataset: its versions, the latest schema and a preview')
    .argument('<name>', 'dataset name')
    .action(async (name: string, _opts, cmd: Command) => {
      const d = await clientOf(ctx, cmd).datasets.get(name);
      emit(ctx.io, wantsJson(cmd), d, () => detailText(d));
    });

  datasets
    .command('delete')
    .description('delete a dataset and all its versions')
    .argument('<name>', 'dataset name')
    .action(async (name: string, _opts, cmd: Command) => {
      await clientOf(ctx, cmd).datasets.delete(name);
      emit(ctx.io, wantsJson(cmd), { deleted: name }, () => `deleted dataset ${name}\n`);
    });
}
