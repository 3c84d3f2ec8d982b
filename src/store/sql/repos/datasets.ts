// Datasets and their immutable versions. Version numbers are handed out from a counter on the dataset row,
// inside one transaction that also checks the datasets quota, under a per-tenant lock.
import { AppError } from '../../../core/errors.ts';
import type { Dataset } from '../../../core/types.ts';
import type { DatasetRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import { num, toVersion } from './rows.ts';

export function datasetRepo(ctx: SqlContext): DatasetRepo {
  return {
    list: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('datasets as d')
          .select((eb) => [
            'd.tenant_id',
            'd.name',
            'd.created_at',
            'd.latest_version',
            eb
              .selectFrom('dataset_versions as v')
              .whereRef('v.tenant_id', '=', 'd.tenant_id')
              .whereRef('v.name', '=', 'd.name')
              .select((e) => e.fn.countAll().as('n'))
              .as('versions'),
          ])
          .where('d.tenant_id', '=', scope.tenantId)
          .orderBy('d.name')
          .execute();
        return rows.map(
          (r): Dataset => ({
            tenantId: r.tenant_id,
            name: r.name,
            createdAt: r.created_at,
            latestVersion: num(r.latest_version),
            versions: num(r.versions as number | string | null),
          }),
        );
      }),

    get: (scope, name) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('datasets')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .executeTakeFirst();
        if (!row) return null;
        const count = await trx
          .selectFrom('dataset_versions')
          .select((e) => e.fn.countAll().as('n'))
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .executeTakeFirstOrThrow();
        return {
          tenantId: row.tenant_id,
          name: row.name,
          createdAt: row.created_at,
          latestVersion: num(row.latest_version),
          versions: num(count.n as number | string),
        };
      }),

    versions: (scope, name) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .orderBy('version')
          .execute();
        return rows.map(toVersion);
      }),

    version: (scope, name, version) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .where('version', '=', version)
          .executeTakeFirst();
        return row ? toVersion(row) : null;
      }),

    addVersion: (scope, v, limits) =>
      ctx.scoped(scope, async (trx) => {
        const tenantId = scope.tenantId;
        // Serializes this tenant's writers: the quota count and the version counter stay exact under
        // concurrent uploads (PostgreSQL; SQLite already runs one transaction at a time).
        await ctx.lockTenant(trx, tenantId);
        const existing = await trx
          .selectFrom('datasets')
          .select('latest_version')
          .where('tenant_id', '=', tenantId)
          .where('name', '=', v.name)
          .executeTakeFirst();
        if (!existing) {
          const { n } = await trx
            .selectFrom('datasets')
            .select((e) => e.fn.countAll().as('n'))
            .where('tenant_id', '=', tenantId)
            .executeTakeFirstOrThrow();
          const used = num(n as number | string);
          if (used >= limits.maxDatasets)
            throw new AppError(
              'quota_exceeded',
              `the tenant holds ${used} datasets, its limit is ${limits.maxDatasets}`,
              { extra: { quota: 'datasets', limit: limits.maxDatasets, used } },
            );
          await trx
            .insertInto('datasets')
            .values({ tenant_id: tenantId, name: v.name, created_at: v.createdAt, latest_version: 0 })
            .execute();
        }
        const version = num(existing?.latest_version) + 1;
        await trx
          .updateTable('datasets')
          .set({ latest_version: version })
          .where('tenant_id', '=', tenantId)
          .where('name', '=', v.name)
          .execute();
        await trx
          .insertInto('dataset_versions')
          .values({
            tenant_id: tenantId,
            name: v.name,
            version,
            rows: v.rows,
            schema: JSON.stringify(v.schema),
            sha256: v.sha256,
            stored_bytes: v.storedBytes,
            artifact: v.artifact,
            format: v.format,
            created_at: v.createdAt,
            created_by: v.createdBy,
          })
          .execute();
        return { ...v, tenantId, version };
      }),

    delete: (scope, name) =>
      ctx.scoped(scope, async (trx) => {
        const found = await trx
          .selectFrom('datasets')
          .select('name')
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .executeTakeFirst();
        if (!found) return null;
        const versions = await trx
          .selectFrom('dataset_versions')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .orderBy('version')
          .execute();
        // dataset_versions cascade from datasets
        await trx
          .deleteFrom('datasets')
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .execute();
        return versions.map(toVersion);
      }),

    count: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const { n } = await trx
          .selectFrom('datasets')
          .select((e) => e.fn.countAll().as('n'))
          .where('tenant_id', '=', scope.tenantId)
          .executeTakeFirstOrThrow();
        return num(n as number | string);
      }),

    storedBytes: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const { n } = await trx
          .selectFrom('dataset_versions')
          .select((e) => e.fn.sum('stored_bytes').as('n'))
          .where('tenant_id', '=', scope.tenantId)
          .executeTakeFirstOrThrow();
        return num(n as number | string | null);
      }),
  };
}
