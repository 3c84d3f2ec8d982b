// The operator's run-time edits of tier defaults: one row per edited tier, its quotas as JSON. Setting a
// tier's edits to {} removes its row, so the built-in defaults hold again.
import type { Quotas, Tier, TierEdits } from '../../../core/tiers.ts';
import type { TierQuotaRepo } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';

/** Every tier's edits, read in `trx` (the job claim reads them in its own transaction). */
export async function readTierEdits(trx: Db): Promise<TierEdits> {
  const rows = await trx.selectFrom('tier_quotas').select(['tier', 'quotas']).orderBy('tier').execute();
  const out: TierEdits = {};
  for (const r of rows) out[r.tier as Tier] = JSON.parse(r.quotas) as Partial<Quotas>;
  return out;
}

export function tierQuotaRepo(ctx: SqlContext): TierQuotaRepo {
  return {
    all: () => ctx.system(readTierEdits),

    set: (tier, quotas, at) =>
      ctx.system(async (trx) => {
        if (Object.keys(quotas).length === 0) {
          await trx.deleteFrom('tier_quotas').where('tier', '=', tier).execute();
          return;
        }
        const text = JSON.stringify(quotas);
        await trx
          .insertInto('tier_quotas')
          .values({ tier, quotas: text, updated_at: at })
          .onConflict((oc) => oc.column('tier').doUpdateSet({ quotas: text, updated_at: at }))
          .execute();
      }),
  };
}
