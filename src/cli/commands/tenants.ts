import { type Command, InvalidArgumentError, Option } from 'commander';
import type { TenantDetailView, TenantView } from '../../api/schemas.ts';
import { QUOTA_NAMES, type Quotas, TIERS } from '../../core/tiers.ts';
import { emit, record, table, UsageError } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

type QuotaOverrides = Partial<Quotas>;

/** `--quota name=value`, repeatable; collects into one overrides object. */
function parseQuota(value: string, previous: QuotaOverrides = {}): QuotaOverrides {
  const m = /^([A-Za-z]+)=(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected name=value, e.g. datasets=20');
  const name = m[1] as keyof Quotas;
  if (!(QUOTA_NAMES as readonly string[]).includes(name)) {
    throw new InvalidArgumentError(`unknown quota "${m[1]}" (known: ${QUOTA_NAMES.join(', ')})`);
  }
  return { ...previous, [name]: Number(m[2]) };
}

const tierOption = () => new Option('--tier <tier>', 'service tier').choices(TIERS);
const quotaOption = () =>
  new Option('--quota <name=value>', `override a quota; repeatable (${QUOTA_NAMES.join(', ')})`).argParser(
    parseQuota,
  );

function tenantText(t: TenantView | TenantDetailView): string {
  let out = record([
    ['id', t.id],
    ['name', t.name],
    ['tier', t.tier],
    ['shared training', t.sharedTraining],
    ['created', t.createdAt],
    ['updated', t.updatedAt],
  ]);
  const overrides = t.quotaOverrides as Record<string, number | undefined>;
  out += `\n${table(
    ['QUOTA', 'VALUE', 'SOURCE'],
    QUOTA_NAMES.map((q) => [q, t.quotas[q], overrides[q] !== undefined ? 'override' : 'tier']),
  )}`;
  if ('consentHistory' in t && t.consentHistory.length > 0) {
    out += `\n${table(
      ['CONSENT CHANGED', 'SHARED TRAINING', 'BY'],
      t.consentHistory.map((c) => [c.changedAt, c.sharedTraining, c.changedBy]),
    )}`;
  }
  return out;
}

export function registerTenants(program: Command, ctx: CommandContext): void {
  const tenants = program.command('tenants').description('manage tenants (operator key)');

  tenants
    .command('create')
    .description('create a tenant')
    .argument('<name>', 'display name')
    .option('--id <id>', 'tenant id: lower-case letters, digits, dashes (generated if absent)')
    .addOption(tierOption())
    .option('--shared-training', 'consent to pooling de-identified data into shared models')
    .addOption(quotaOption())
    .action(async (name: string, opts, cmd: Command) => {
      const t = await clientOf(ctx, cmd).tenants.create({
        name,
        id: opts.id,
        tier: opts.tier,
        sharedTraining: opts.sharedTraining,
        quotaOverrides: opts.quota,
      });
      emit(ctx.io, wantsJson(cmd), t, () => tenantText(t));
    });

  tenants
    .command('list')
    .description('list tenants')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).tenants.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['ID', 'NAME', 'TIER', 'SHARED', 'CREATED'],
          list.map((t) => [t.id, t.name, t.tier, t.sharedTraining, t.createdAt]),
        ),
      );
    });

  tenants
    .command('get')
    .description('show a tenant, its quotas and its consent history')
    .argument('<id>', 'tenant id')
    .action(async (id: string, _opts, cmd: Command) => {
      const t = await clientOf(ctx, cmd).tenants.get(id);
      emit(ctx.io, wantsJson(cmd), t, () => tenantText(t));
    });

  tenants
    .command('update')
    .description('change a tenant’s name, tier, consent or quotas')
    .argument('<id>', 'tenant id')
    .option('--name <name>', 'new display name')
    .addOption(tierOption())
    .option('--shared-training', 'give consent to shared training')
    .option('--no-shared-training', 'withdraw consent to shared training')
    .addOption(quotaOption())
    .action(async (id: string, opts, cmd: Command) => {
      const patch = {
        name: opts.name,
        tier: opts.tier,
        sharedTraining: opts.sharedTraining,
        quotaOverrides: opts.quota,
      };
      if (Object.values(patch).every((v) => v === undefined)) {
        throw new UsageError('nothing to change: give --name, --tier, --[no-]shared-training or --quota');
      }
      const t = await clientOf(ctx, cmd).tenants.update(id, patch);
      emit(ctx.io, wantsJson(cmd), t, () => tenantText(t));
    });

  tenants
    .command('delete')
    .description('delete a tenant and destroy its data key (its data becomes unreadable)')
    .argument('<id>', 'tenant id')
    .option('--yes', 'confirm: this cannot be undone')
    .action(async (id: string, opts, cmd: Command) => {
      if (!opts.yes)
        throw new UsageError(`deleting tenant ${id} destroys all its data; add --yes to confirm`);
      await clientOf(ctx, cmd).tenants.delete(id);
      emit(ctx.io, wantsJson(cmd), { deleted: id }, () => `deleted tenant ${id}\n`);
    });
}
