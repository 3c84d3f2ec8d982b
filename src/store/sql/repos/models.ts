// Models and their immutable versions. Numbers come from a counter on the model row under the tenant's
// lock; a version remembers the job that trained it (unique), so a job retried after its worker died
// registers once. A model's first version becomes its live version; promotion comes with the registry.
import type { Selectable } from 'kysely';
import { AppError } from '../../../core/errors.ts';
import type { ModelMode } from '../../../core/jobs.ts';
import type { ModelRepo, ModelSummary, ModelVersion } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import type { ModelVersionsTable } from '../schema.ts';
import { num } from './rows.ts';

export function toModelVersion(r: Selectable<ModelVersionsTable>): ModelVersion {
  return {
    tenantId: r.tenant_id,
    model: r.model,
    version: num(r.version),
    mode: r.mode as ModelMode,
    task: r.task,
    algorithm: r.algorithm,
    params: JSON.parse(r.params) as ModelVersion['params'],
    metrics: JSON.parse(r.metrics) as ModelVersion['metrics'],
    datasets: JSON.parse(r.datasets) as ModelVersion['datasets'],
    artifact: r.artifact,
    checksum: r.checksum,
    jobId: r.job_id,
    base: r.base == null ? null : (JSON.parse(r.base) as ModelVersion['base']),
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

/** Raised inside the registering transaction (rolling it back) when another registered the same job. */
class JobAlreadyRegistered extends Error {}

async function byJob(trx: Db, tenantId: string, jobId: string): Promise<ModelVersion | null> {
  const row = await trx
    .selectFrom('model_versions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return row ? toModelVersion(row) : null;
}

function summaries(trx: Db, tenantId: string) {
  return trx
    .selectFrom('models as m')
    .select((eb) => [
      'm.name',
      'm.latest_version',
      'm.live_version',
      'm.created_at',
      eb
        .selectFrom('model_versions as v')
        .whereRef('v.tenant_id', '=', 'm.tenant_id')
        .whereRef('v.model', '=', 'm.name')
        .select((e) => e.fn.countAll().as('n'))
        .as('versions'),
    ])
    .where('m.tenant_id', '=', tenantId);
}

type SummaryRow = {
  name: string;
  latest_version: number;
  live_version: number | null;
  created_at: string;
  versions: unknown;
};

const toSummary = (r: SummaryRow): ModelSummary => ({
  name: r.name,
  latestVersion: num(r.latest_version),
  liveVersion: r.live_version == null ? null : num(r.live_version),
  versions: num(r.versions as number | string | null),
  createdAt: r.created_at,
});

export function modelRepo(ctx: SqlContext): ModelRepo {
  const insertVersion = (
    scope: Parameters<ModelRepo['register']>[0],
    v: Parameters<ModelRepo['register']>[1],
  ) =>
    ctx.scoped(scope, async (trx) => {
      const tenantId = scope.tenantId;
      if (v.jobId !== null) {
        const found = await byJob(trx, tenantId, v.jobId);
        if (found) return found;
      }
      // Serializes this tenant's registrations: the counter and the job check stay exact.
      await ctx.lockTenant(trx, tenantId);
      if (v.jobId !== null) {
        const found = await byJob(trx, tenantId, v.jobId); // a racing register committed while we waited
        if (found) return found;
      }
      const existing = await trx
        .selectFrom('models')
        .select('latest_version')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', v.model)
        .executeTakeFirst();
      if (!existing)
        await trx
          .insertInto('models')
          .values({
            tenant_id: tenantId,
            name: v.model,
            latest_version: 0,
            live_version: null,
            created_at: v.createdAt,
          })
          .execute();
      const version = num(existing?.latest_version) + 1;
      await trx
        .updateTable('models')
        .set((eb) => ({
          latest_version: version,
          live_version: eb.fn.coalesce('live_version', eb.val(version)),
        }))
        .where('tenant_id', '=', tenantId)
        .where('name', '=', v.model)
        .execute();
      const row = await trx
        .insertInto('model_versions')
        .values({
          tenant_id: tenantId,
          model: v.model,
          version,
          mode: v.mode,
          task: v.task,
          algorithm: v.algorithm,
          params: JSON.stringify(v.params),
          metrics: JSON.stringify(v.metrics),
          datasets: JSON.stringify(v.datasets),
          artifact: v.artifact,
          checksum: v.checksum,
          job_id: v.jobId,
          base: v.base === null ? null : JSON.stringify(v.base),
          created_at: v.createdAt,
          created_by: v.createdBy,
        })
        // The unique job id is the last word when the lock did not serialize the racers.
        .onConflict((oc) => oc.column('job_id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new JobAlreadyRegistered();
      return toModelVersion(row);
    });

  return {
    register: async (scope, v) => {
      try {
        return await insertVersion(scope, v);
      } catch (e) {
        if (!(e instanceof JobAlreadyRegistered) || v.jobId === null) throw e;
        const jobId = v.jobId;
        const found = await ctx.scoped(scope, (trx) => byJob(trx, scope.tenantId, jobId));
        if (found) return found;
        throw new AppError('conflict', `job ${jobId} already registered a model version`);
      }
    },

    list: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await summaries(trx, scope.tenantId).orderBy('m.name').execute();
        return rows.map(toSummary);
      }),

    get: (scope, name) =>
      ctx.scoped(scope, async (trx) => {
        const row = await summaries(trx, scope.tenantId).where('m.name', '=', name).executeTakeFirst();
        return row ? toSummary(row) : null;
      }),

    versions: (scope, name) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('model_versions')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', name)
          .orderBy('version')
          .execute();
        return rows.map(toModelVersion);
      }),

    version: (scope, name, version) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('model_versions')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', name)
          .where('version', '=', version)
          .executeTakeFirst();
        return row ? toModelVersion(row) : null;
      }),
  };
}
