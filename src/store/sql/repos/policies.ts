// Retraining policies: one per tenant model, with when it last fired (the cooldown counts from there).
// Replacing a policy keeps its firing history, so editing a policy cannot be used to skip the cooldown.
import type { Selectable } from 'kysely';
import type { PolicyTrigger, RetrainPolicy } from '../../../core/monitoring.ts';
import type { PolicyRecord, PolicyRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import type { RetrainPoliciesTable } from '../schema.ts';

function toPolicy(r: Selectable<RetrainPoliciesTable>): PolicyRecord {
  return {
    model: r.model,
    policy: JSON.parse(r.policy) as RetrainPolicy,
    lastFiredAt: r.last_fired_at,
    lastTrigger: r.last_trigger as PolicyTrigger | null,
    updatedAt: r.updated_at,
  };
}

export function policyRepo(ctx: SqlContext): PolicyRepo {
  return {
    get: (scope, model) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('retrain_policies')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .executeTakeFirst();
        return row ? toPolicy(row) : null;
      }),

    put: (scope, model, policy, at) =>
      ctx.scoped(scope, async (trx) => {
        const text = JSON.stringify(policy);
        const row = await trx
          .insertInto('retrain_policies')
          .values({
            tenant_id: scope.tenantId,
            model,
            policy: text,
            last_fired_at: null,
            last_trigger: null,
            updated_at: at,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'model']).doUpdateSet({ policy: text, updated_at: at }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return toPolicy(row);
      }),

    delete: (scope, model) =>
      ctx.scoped(scope, async (trx) => {
        const r = await trx
          .deleteFrom('retrain_policies')
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }),

    fired: (scope, model, trigger, at) =>
      ctx.scoped(scope, async (trx) => {
        await trx
          .updateTable('retrain_policies')
          .set({ last_fired_at: at, last_trigger: trigger })
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .execute();
      }),

    listAll: () =>
      ctx.system(async (trx) => {
        const rows = await trx
          .selectFrom('retrain_policies')
          .selectAll()
          .orderBy('tenant_id')
          .orderBy('model')
          .execute();
        return rows.map((r) => ({ ...toPolicy(r), tenantId: r.tenant_id }));
      }),
  };
}
