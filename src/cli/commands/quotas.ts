// `tenantml quotas`: a tenant's quotas with their source and current use; with the operator key and no
// tenant, the tier table; `set-tier` edits a tier's quotas (in force at once, without restart).
import { type Command, InvalidArgumentError } from 'commander';
import { QUOTA_NAMES, TIERS, type Tier } from '../../core/tiers.ts';
import type { QuotasViewBody, TierLineBody } from '../../sdk/index.ts';
import { emit, table, UsageError } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

/** `name=value` pairs → a tier's edits; each name a quota, each value a whole number. */
function parseEdits(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(p.trim());
    if (!m) throw new UsageError(`expected name=value with a whole number, e.g. datasets=20 (got "${p}")`);
    if (!(QUOTA_NAMES as readonly string[]).includes(m[1]))
      throw new UsageError(`unknown quota "${m[1]}" (known: ${QUOTA_NAMES.join(', ')})`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function tierTable(lines: TierLineBody[]): string {
  return table(
    ['QUOTA', ...lines.map((l) => l.tier.toUpperCase())],
    QUOTA_NAMES.map((q) => [
      q,
      ...lines.map((l) =>
        l.edits[q] !== undefined ? `${l.quotas[q]} (edited; default ${l.defaults[q]})` : l.quotas[q],
      ),
    ]),
  );
}

function quotasText(v: QuotasViewBody): string {
  if (v.tiers) return tierTable(v.tiers);
  const head = `tenant ${v.tenantId} (tier ${v.tier})\n`;
  return (
    head +
    table(
      ['QUOTA', 'LIMIT', 'SOURCE', 'USED'],
      (v.quotas ?? []).map((l) => [l.name, l.limit, l.source, l.used ?? '']),
    )
  );
}

export function registerQuotas(program: Command, ctx: CommandContext): void {
  const quotas = program
    .command('quotas')
    .description('quotas: a tenant’s limits and use; with the operator key and no --tenant, the tier table');

  quotas
    .command('show', { isDefault: true })
    .description('show the quotas in force, where each comes from, and the current use')
    .action(async (_opts, cmd: Command) => {
      const v = await clientOf(ctx, cmd).quotas.get();
      emit(ctx.io, wantsJson(cmd), v, () => quotasText(v));
    });

  quotas
    .command('set-tier')
    .description('operator: set a tier’s edited quotas (replacing earlier edits; none restores the defaults)')
    .argument('<tier>', `the tier: ${TIERS.join(', ')}`, (v: string) => {
      if (!(TIERS as readonly string[]).includes(v))
        throw new InvalidArgumentError(`tiers: ${TIERS.join(', ')}`);
      return v;
    })
    .argument('[edits...]', 'name=value pairs, e.g. datasets=20 concurrentJobs=3')
    .action(async (tier: Tier, edits: string[], _opts, cmd: Command) => {
      const line = await clientOf(ctx, cmd).quotas.setTier(tier, parseEdits(edits));
      emit(ctx.io, wantsJson(cmd), line, () => tierTable([line]));
    });
}
