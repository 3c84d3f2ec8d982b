// Tenant administration: operator and system paths, so it runs in system transactions; the one
// tenant-scoped read (consent history) runs in the tenant's scope.
import { AppError } from '../../../core/errors.ts';
import { SHARED_NAMESPACE, type TenantScope } from '../../../core/scope.ts';
import type { Tenant } from '../../../core/types.ts';
import type { NewTenant, TenantPatch, TenantRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import { toConsent, toTenant } from './rows.ts';

export function tenantRepo(ctx: SqlContext): TenantRepo {
  return {
    create: (t: NewTenant, actorKeyId: string, at: string): Promise<Tenant> =>
      ctx.system(async (trx) => {
        const row = {
          id: t.id,
          name: t.name,
          tier: t.tier,
          shared_training: t.sharedTraining,
          quota_overrides: JSON.stringify(t.quotaOverrides ?? {}),
          created_at: at,
          updated_at: at,
        };
        const inserted = await trx
          .insertInto('tenants')
          .values(row)
          .onConflict((oc) => oc.column('id').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!inserted) throw new AppError('conflict', `tenant ${t.id} already exists`);
        await trx
          .insertInto('tenant_data_keys')
          .values({ tenant_id: t.id, wrapped_key: t.wrappedDataKey, created_at: at })
          .execute();
        // The initial consent is history too: "was consent on at time T" needs the starting state.
        await trx
          .insertInto('consent_changes')
          .values({
            tenant_id: t.id,
            shared_training: t.sharedTraining,
            changed_by: actorKeyId,
            changed_at: at,
          })
          .execute();
        return toTenant(inserted);
      }),

    list: () =>
      ctx.system(async (trx) => {
        // The shared namespace has a tenants row only so that its models can use the tenant-owned tables.
        const rows = await trx
          .selectFrom('tenants')
          .selectAll()
          .where('id', '!=', SHARED_NAMESPACE)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toTenant);
      }),

    get: (id) =>
      ctx.system(async (trx) => {
        const row = await trx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
        return row ? toTenant(row) : null;
      }),

    update: (id: string, patch: TenantPatch, actorKeyId: string, at: string) =>
      ctx.system(async (trx) => {
        await ctx.lockTenant(trx, id); // two consent flips at once must record both, in order
        const row = await trx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) return null;
        const before = toTenant(row);
        const updated = await trx
          .updateTable('tenants')
          .set({
            name: patch.name ?? before.name,
            tier: patch.tier ?? before.tier,
            shared_training: patch.sharedTraining ?? before.sharedTraining,
            quota_overrides: JSON.stringify(patch.quotaOverrides ?? before.quotaOverrides),
            updated_at: at,
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (patch.sharedTraining !== undefined && patch.sharedTraining !== before.sharedTraining) {
          await trx
            .insertInto('consent_changes')
            .values({
              tenant_id: id,
              shared_training: patch.sharedTraining,
              changed_by: actorKeyId,
              changed_at: at,
            })
            .execute();
        }
        return toTenant(updated);
      }),

    // Foreign keys cascade from tenants to every tenant-owned table (keys, datasets, versions, consent
    // history, the wrapped data key, the audit chain), so one delete in one transaction removes it all.
    delete: (id) =>
      ctx.system(async (trx) => {
        const res = await trx.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
        return Number(res.numDeletedRows) > 0;
      }),

    consentHistory: (scope: TenantScope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('consent_changes')
          .select(['tenant_id', 'shared_training', 'changed_by', 'changed_at'])
          .where('tenant_id', '=', scope.tenantId)
          .orderBy('id')
          .execute();
        return rows.map(toConsent);
      }),

    wrappedDataKey: (id) =>
      ctx.system(async (trx) => {
        const row = await trx
          .selectFrom('tenant_data_keys')
          .select('wrapped_key')
          .where('tenant_id', '=', id)
          .executeTakeFirst();
        return row ? Buffer.from(row.wrapped_key) : null;
      }),
  };
}
