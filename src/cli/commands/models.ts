import type { Command } from 'commander';
import type { ModelDetailView, ModelVersionView } from '../../api/schemas.ts';
import { emit, record, table } from '../output.ts';
import { formatMetric } from '../progress.ts';
import { type CommandContext, clientOf, wantsJson, wholeNumber } from './shared.ts';

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

function modelText(m: ModelDetailView): string {
  let out = record([
    ['model', m.name],
    ['live version', m.liveVersion ?? 'none'],
    ['latest version', m.latestVersion],
    ['versions', m.versions],
    ['created', m.createdAt],
  ]);
  const versions = [...m.versionList].sort((a, b) => b.version - a.version);
  out += `\n${table(
    ['VERSION', 'LIVE', 'MODE', 'TASK', 'ALGORITHM', 'TRAINED ON', 'BASE', 'JOB', 'CREATED', 'CHECKSUM'],
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
    .command('rollback')
    .description('make live again the version that was live before the current one')
    .argument('<name>', 'model name')
    .action(async (name: string, _opts, cmd: Command) => {
      const m = await clientOf(ctx, cmd).models.rollback(name);
      emit(ctx.io, wantsJson(cmd), m, () => `${name}: version ${m.liveVersion} is live\n\n${modelText(m)}`);
    });
}
