// Budgets (one per tenant) and the thresholds already alerted per month. markAlerted inserts with
// `on conflict do nothing`: of any number of concurrent callers exactly one inserts the row and wins.
import type { Selectable } from 'kysely';
import type { Budget } from '../../../core/metering.ts';
import type { BudgetRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import type { BudgetsTable } from '../schema.ts';
import { bool, num } from './rows.ts';

function toBudget(r: Selectable<BudgetsTable>): Budget {
  return {
    monthly: num(r.monthly),
    alertAt: JSON.parse(r.alert_at) as number[],
    hardLimit: bool(r.hard_limit),
    blockPredictions: bool(r.block_predictions),
    overrideMonth: r.override_month,
  };
}

export function budgetRepo(ctx: SqlContext): BudgetRepo {
  return {
    get: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('budgets')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .executeTakeFirst();
        return row ? toBudget(row) : null;
      }),

    put: (scope, b, at) =>
      ctx.scoped(scope, async (trx) => {
        const set = {
          monthly: b.monthly,
          alert_at: JSON.stringify(b.alertAt),
          hard_limit: b.hardLimit,
          block_predictions: b.blockPredictions,
          override_month: b.overrideMonth,
          updated_at: at,
        };
        const row = await trx
          .insertInto('budgets')
          .values({ tenant_id: scope.tenantId, ...set })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet(set))
          .returningAll()
          .executeTakeFirstOrThrow();
        return toBudget(row);
      }),

    delete: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const r = await trx.deleteFrom('budgets').where('tenant_id', '=', scope.tenantId).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }),

    listAll: () =>
      ctx.system(async (trx) => {
        const rows = await trx.selectFrom('budgets').selectAll().orderBy('tenant_id').execute();
        return rows.map((r) => ({ tenantId: r.tenant_id, budget: toBudget(r) }));
      }),

    alerted: (scope, month) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('budget_alerts')
          .select('threshold')
          .where('tenant_id', '=', scope.tenantId)
          .where('month', '=', month)
          .orderBy('threshold')
          .execute();
        return rows.map((r) => num(r.threshold));
      }),

    markAlerted: (scope, month, threshold, at) =>
      ctx.scoped(scope, async (trx) => {
        const r = await trx
          .insertInto('budget_alerts')
          .values({ tenant_id: scope.tenantId, month, threshold, at })
          .onConflict((oc) => oc.columns(['tenant_id', 'month', 'threshold']).doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
      }),
  };
}
