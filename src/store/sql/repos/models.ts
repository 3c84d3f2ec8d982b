// Models and their immutable versions. Numbers come from a counter on the model row under the tenant's
// lock; a version remembers the job that trained it (unique), so a job retried after its worker died
// registers once. A model's first version becomes its live version; promote and rollback move it, and
// every move is kept in model_live_history, which a rollback replays to find the version live before.
import type { Selectable } from 'kysely';
import { AppError, notFound } from '../../../core/errors.ts';
import type { ModelMode } from '../../../core/jobs.ts';
import type { ModelLiveChange, ModelRepo, ModelSummary, ModelVersion } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import type { ModelLiveHistoryTable, ModelVersionsTable } from '../schema.ts';
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

const toLiveChange = (r: Selectable<ModelLiveHistoryTable>): ModelLiveChange => ({
  model: r.model,
  fromVersion: r.from_version == null ? null : num(r.from_version),
  toVersion: num(r.to_version),
  actor: r.actor,
  at: r.at,
  reason: r.reason as ModelLiveChange['reason'],
});

async function historyOf(trx: Db, tenantId: string, name: string): Promise<ModelLiveChange[]> {
  const rows = await trx
    .selectFrom('model_live_history')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('model', '=', name)
    .orderBy('id')
    .execute();
  return rows.map(toLiveChange);
}

/**
 * The versions a rollback can go back to, the next one last: a promotion pushes the version it replaced,
 * a rollback pops the one it returned to.
 */
export function rollbackStack(history: readonly ModelLiveChange[]): number[] {
  const stack: number[] = [];
  for (const h of history) {
    if (h.reason === 'rollback') stack.pop();
    else if (h.fromVersion !== null) stack.push(h.fromVersion);
  }
  return stack;
}

async function liveOf(trx: Db, tenantId: string, name: string): Promise<{ live: number | null } | null> {
  const row = await trx
    .selectFrom('models')
    .select('live_version')
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? { live: row.live_version == null ? null : num(row.live_version) } : null;
}

async function setLive(trx: Db, tenantId: string, change: ModelLiveChange): Promise<ModelSummary> {
  await trx
    .updateTable('models')
    .set({ live_version: change.toVersion })
    .where('tenant_id', '=', tenantId)
    .where('name', '=', change.model)
    .execute();
  await trx
    .insertInto('model_live_history')
    .values({
      tenant_id: tenantId,
      model: change.model,
      from_version: change.fromVersion,
      to_version: change.toVersion,
      actor: change.actor,
      at: change.at,
      reason: change.reason,
    })
    .execute();
  return summaryOf(trx, tenantId, change.model);
}

async function summaryOf(trx: Db, tenantId: string, name: string): Promise<ModelSummary> {
  const row = await summaries(trx, tenantId).where('m.name', '=', name).executeTakeFirstOrThrow();
  return toSummary(row);
}

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

    promote: (scope, name, version, actorKeyId, at) =>
      ctx.scoped(scope, async (trx) => {
        const tenantId = scope.tenantId;
        // Serializes this tenant's live-version changes: two promotions never both read the same "from".
        await ctx.lockTenant(trx, tenantId);
        const model = await liveOf(trx, tenantId, name);
        if (!model) throw notFound('model');
        const exists = await trx
          .selectFrom('model_versions')
          .select('version')
          .where('tenant_id', '=', tenantId)
          .where('model', '=', name)
          .where('version', '=', version)
          .executeTakeFirst();
        if (!exists) throw notFound('model version');
        if (model.live === version) return summaryOf(trx, tenantId, name);
        return setLive(trx, tenantId, {
          model: name,
          fromVersion: model.live,
          toVersion: version,
          actor: actorKeyId,
          at,
          reason: 'promote',
        });
      }),

    rollback: (scope, name, actorKeyId, at) =>
      ctx.scoped(scope, async (trx) => {
        const tenantId = scope.tenantId;
        await ctx.lockTenant(trx, tenantId);
        const model = await liveOf(trx, tenantId, name);
        if (!model) throw notFound('model');
        const target = rollbackStack(await historyOf(trx, tenantId, name)).at(-1);
        if (target === undefined)
          throw new AppError('conflict', 'there is no earlier live version to roll back to');
        return setLive(trx, tenantId, {
          model: name,
          fromVersion: model.live,
          toVersion: target,
          actor: actorKeyId,
          at,
          reason: 'rollback',
        });
      }),

    liveHistory: (scope, name) => ctx.scoped(scope, (trx) => historyOf(trx, scope.tenantId, name)),
  };
}
