// Advice records: one comparison of the tenant-specific, shared and tuned approaches for a tenant's model,
// from the moment its candidate jobs are queued until the advisor writes the result. Tenant-owned; a
// record ends once (running → done | failed), so two workers finishing it cannot both win.
import type { Selectable } from 'kysely';
import type { AdviceResult } from '../../../core/advice.ts';
import { AppError } from '../../../core/errors.ts';
import type { ModelRef } from '../../../core/jobs.ts';
import type { Advice, AdviceRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import type { AdviceTable } from '../schema.ts';
import { bool, num } from './rows.ts';

function toAdvice(r: Selectable<AdviceTable>): Advice {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    model: r.model,
    dataset: r.dataset,
    datasetVersion: num(r.dataset_version),
    target: r.target,
    shared: r.shared == null ? null : (JSON.parse(r.shared) as ModelRef),
    jobs: JSON.parse(r.jobs) as Advice['jobs'],
    autoPromote: bool(r.auto_promote),
    state: r.state as Advice['state'],
    result: r.result == null ? null : (JSON.parse(r.result) as AdviceResult),
    error: r.error,
    createdAt: r.created_at,
    createdBy: r.created_by,
    finishedAt: r.finished_at,
  };
}

export function adviceRepo(ctx: SqlContext): AdviceRepo {
  return {
    create: (scope, a) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .insertInto('advice')
          .values({
            id: a.id,
            tenant_id: scope.tenantId,
            model: a.model,
            dataset: a.dataset,
            dataset_version: a.datasetVersion,
            target: a.target,
            shared: a.shared === null ? null : JSON.stringify(a.shared),
            jobs: JSON.stringify(a.jobs),
            auto_promote: a.autoPromote,
            state: 'running',
            result: null,
            error: null,
            created_at: a.createdAt,
            created_by: a.createdBy,
            finished_at: null,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new AppError('conflict', `advice ${a.id} already exists`);
        return toAdvice(row);
      }),

    get: (scope, id) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('advice')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toAdvice(row) : null;
      }),

    list: (scope, model) =>
      ctx.scoped(scope, async (trx) => {
        let q = trx.selectFrom('advice').selectAll().where('tenant_id', '=', scope.tenantId);
        if (model !== undefined) q = q.where('model', '=', model);
        const rows = await q.orderBy('created_at', 'desc').orderBy('seq', 'desc').execute();
        return rows.map(toAdvice);
      }),

    finish: (scope, id, end) =>
      ctx.scoped(scope, async (trx) => {
        // The state condition makes the end happen once, whoever calls first.
        const row = await trx
          .updateTable('advice')
          .set({
            state: end.state,
            result: end.result === null ? null : JSON.stringify(end.result),
            error: end.error,
            finished_at: end.at,
          })
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .where('state', '=', 'running')
          .returningAll()
          .executeTakeFirst();
        return row ? toAdvice(row) : null;
      }),
  };
}
