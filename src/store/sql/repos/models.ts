// Models and their immutable versions. Numbers come from a counter on the model row under the tenant's
// lock; a version remembers the job that trained it (unique), so a job retried after its worker died
// registers once. A model's first version becomes its live version; promote and rollback move it, and
// every move is kept in model_live_history, which a rollback replays to find the version live before.
// Each version also records where its data came from (model_provenance), and may be tainted when that
// data may no longer be used; the cross-namespace questions (who holds tenant X's data, which tuned
// versions stand on a shared base) run as system paths.
import type { ExpressionBuilder, Selectable } from 'kysely';
import { AppError, invalid, notFound } from '../../../core/errors.ts';
import type { Audience, ModelMode, ModelRef } from '../../../core/jobs.ts';
import { SHARED_NAMESPACE } from '../../../core/scope.ts';
import type {
  ModelLiveChange,
  ModelRepo,
  ModelStatus,
  ModelSummary,
  ModelVersion,
  ProvenanceRecord,
} from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import type { DB, ModelLiveHistoryTable, ModelVersionsTable } from '../schema.ts';
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
    status: r.status as ModelStatus,
    taint: r.tainted_at == null ? null : { at: r.tainted_at, reason: r.taint_reason ?? '' },
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
      'm.audience',
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
  audience: string | null;
  created_at: string;
  versions: unknown;
};

const toSummary = (r: SummaryRow): ModelSummary => ({
  name: r.name,
  latestVersion: num(r.latest_version),
  liveVersion: r.live_version == null ? null : num(r.live_version),
  versions: num(r.versions as number | string | null),
  audience: r.audience == null ? null : (JSON.parse(r.audience) as Audience),
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

type Source = ProvenanceRecord['source'] & { via: ModelRef | null };

function provenanceRows(trx: Db) {
  return trx
    .selectFrom('model_provenance as p')
    .innerJoin('model_versions as v', (j) =>
      j
        .onRef('v.tenant_id', '=', 'p.tenant_id')
        .onRef('v.model', '=', 'p.model')
        .onRef('v.version', '=', 'p.version'),
    )
    .innerJoin('models as m', (j) =>
      j.onRef('m.tenant_id', '=', 'p.tenant_id').onRef('m.name', '=', 'p.model'),
    )
    .select([
      'p.tenant_id',
      'p.model',
      'p.version',
      'v.mode',
      'v.status',
      'm.live_version',
      'p.source_tenant_id',
      'p.dataset',
      'p.dataset_version',
      'p.rows',
      'p.via_model',
      'p.via_version',
    ]);
}

type ProvenanceRow = {
  tenant_id: string;
  model: string;
  version: number;
  mode: string;
  status: string;
  live_version: number | null;
  source_tenant_id: string;
  dataset: string;
  dataset_version: number;
  rows: number | string;
  via_model: string | null;
  via_version: number | null;
};

const toProvenance = (r: ProvenanceRow): ProvenanceRecord => ({
  tenantId: r.tenant_id,
  model: r.model,
  version: num(r.version),
  mode: r.mode as ModelMode,
  status: r.status as ModelStatus,
  live: r.live_version != null && num(r.live_version) === num(r.version),
  source: {
    tenantId: r.source_tenant_id,
    dataset: r.dataset,
    version: num(r.dataset_version),
    rows: num(r.rows),
  },
  via: r.via_model == null ? null : { model: r.via_model, version: num(r.via_version) },
});

/** The direct sources of a version, as the provenance rows store them (via is always null here). */
async function baseSources(trx: Db, base: ModelRef): Promise<Source[]> {
  const rows = await trx
    .selectFrom('model_provenance')
    .select(['source_tenant_id', 'dataset', 'dataset_version', 'rows'])
    .where('tenant_id', '=', SHARED_NAMESPACE)
    .where('model', '=', base.model)
    .where('version', '=', base.version)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    tenantId: r.source_tenant_id,
    dataset: r.dataset,
    version: num(r.dataset_version),
    rows: num(r.rows),
    via: base,
  }));
}

export function modelRepo(ctx: SqlContext): ModelRepo {
  const insertVersion = (
    scope: Parameters<ModelRepo['register']>[0],
    v: Parameters<ModelRepo['register']>[1],
    inherited: Source[],
  ) =>
    ctx.scoped(scope, async (trx) => {
      const tenantId = scope.tenantId;
      if (v.jobId !== null) {
        const found = await byJob(trx, tenantId, v.jobId);
        if (found) return found;
      }
      // Serializes this tenant's registrations: the counter, the job check and the live rule stay exact.
      await ctx.lockTenant(trx, tenantId);
      if (v.jobId !== null) {
        const found = await byJob(trx, tenantId, v.jobId); // a racing register committed while we waited
        if (found) return found;
      }
      const existing = await trx
        .selectFrom('models')
        .select(['latest_version', 'live_version'])
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
      const live = existing?.live_version == null ? null : num(existing.live_version);
      const liveTainted =
        live !== null &&
        (
          await trx
            .selectFrom('model_versions')
            .select('status')
            .where('tenant_id', '=', tenantId)
            .where('model', '=', v.model)
            .where('version', '=', live)
            .executeTakeFirst()
        )?.status === 'tainted';
      // A tainted live version gives way to the first clean successor, so that predictions stop using
      // withdrawn data without waiting for someone to promote.
      const successor = liveTainted && v.taint === undefined && !v.candidate;
      await trx
        .updateTable('models')
        .set({
          latest_version: version,
          live_version: (live === null && !v.candidate) || successor ? version : live,
        })
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
          base_model: v.base?.model ?? null,
          base_version: v.base?.version ?? null,
          status: v.taint === undefined ? 'ok' : 'tainted',
          tainted_at: v.taint?.at ?? null,
          taint_reason: v.taint?.reason ?? null,
          created_at: v.createdAt,
          created_by: v.createdBy,
        })
        // The unique job id is the last word when the lock did not serialize the racers.
        .onConflict((oc) => oc.column('job_id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new JobAlreadyRegistered();
      const sources: Source[] = [
        ...v.datasets.map((d) => ({
          tenantId: d.tenantId,
          dataset: d.name,
          version: d.version,
          rows: d.rows,
          via: null,
        })),
        ...inherited,
      ];
      if (sources.length > 0)
        await trx
          .insertInto('model_provenance')
          .values(
            sources.map((src) => ({
              tenant_id: tenantId,
              model: v.model,
              version,
              source_tenant_id: src.tenantId,
              dataset: src.dataset,
              dataset_version: src.version,
              rows: src.rows,
              via_model: src.via?.model ?? null,
              via_version: src.via?.version ?? null,
            })),
          )
          .execute();
      if (successor)
        await trx
          .insertInto('model_live_history')
          .values({
            tenant_id: tenantId,
            model: v.model,
            from_version: live,
            to_version: version,
            actor: v.createdBy,
            at: v.createdAt,
            reason: 'successor',
          })
          .execute();
      return toModelVersion(row);
    });

  return {
    register: async (scope, v) => {
      // The base lives in another namespace: its sources are read first, in a system transaction of
      // their own (a version's provenance never changes once registered).
      const base = v.base;
      const inherited = base === null ? [] : await ctx.system((trx) => baseSources(trx, base));
      try {
        return await insertVersion(scope, v, inherited);
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

    setAudience: (scope, name, audience) => {
      // Tenant models are only ever the tenant's own: an audience there would mean nothing.
      if (scope.tenantId !== SHARED_NAMESPACE)
        return Promise.reject(invalid('audience', 'only shared models have an audience'));
      return ctx.scoped(scope, async (trx) => {
        const res = await trx
          .updateTable('models')
          .set({ audience: JSON.stringify(audience) })
          .where('tenant_id', '=', scope.tenantId)
          .where('name', '=', name)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw notFound('model');
        return summaryOf(trx, scope.tenantId, name);
      });
    },

    provenance: (scope, name, version) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await provenanceRows(trx)
          .where('p.tenant_id', '=', scope.tenantId)
          .where('p.model', '=', name)
          .where('p.version', '=', version)
          .orderBy('p.id')
          .execute();
        return rows.map(toProvenance);
      }),

    holdingDataOf: (sourceTenantId, dataset) =>
      ctx.system(async (trx) => {
        let q = provenanceRows(trx).where('p.source_tenant_id', '=', sourceTenantId);
        if (dataset !== undefined) q = q.where('p.dataset', '=', dataset);
        const rows = await q.orderBy('v.created_at').orderBy('p.id').execute();
        return rows.map(toProvenance);
      }),

    taint: (versions, reason, at) =>
      ctx.system(async (trx) => {
        const bases = versions.filter((r) => r.tenantId === SHARED_NAMESPACE);
        const tuned =
          bases.length === 0
            ? []
            : await trx
                .selectFrom('model_versions')
                .select('tenant_id')
                .where('mode', '=', 'tuned')
                .where('status', '=', 'ok')
                .where(onBases(bases))
                .execute();
        // Each affected namespace's lock, in one order: a concurrent register then sees either the old
        // status or the new one, never a half-tainted set, and two taints cannot deadlock.
        const tenants = [...new Set([...versions.map((r) => r.tenantId), ...tuned.map((r) => r.tenant_id)])];
        for (const id of tenants.sort()) await ctx.lockTenant(trx, id);
        const mark = { status: 'tainted', tainted_at: at, taint_reason: reason };
        const newly: ModelVersion[] = [];
        for (const r of versions) {
          const rows = await trx
            .updateTable('model_versions')
            .set(mark)
            .where('tenant_id', '=', r.tenantId)
            .where('model', '=', r.model)
            .where('version', '=', r.version)
            .where('status', '=', 'ok')
            .returningAll()
            .execute();
          newly.push(...rows.map(toModelVersion));
        }
        if (bases.length > 0) {
          const rows = await trx
            .updateTable('model_versions')
            .set(mark)
            .where('mode', '=', 'tuned')
            .where('status', '=', 'ok')
            .where(onBases(bases))
            .returningAll()
            .execute();
          newly.push(...rows.map(toModelVersion).sort(byRef));
        }
        return newly;
      }),

    tunedOn: (model) =>
      ctx.system(async (trx) => {
        const rows = await trx
          .selectFrom('model_versions')
          .selectAll()
          .where('mode', '=', 'tuned')
          .where('base_model', '=', model)
          .orderBy('created_at')
          .orderBy('tenant_id')
          .orderBy('model')
          .orderBy('version')
          .execute();
        return rows.map(toModelVersion);
      }),
  };
}

/** Versions whose base is one of `bases` (tuned versions only have one). */
const onBases = (bases: readonly ModelRef[]) => (eb: ExpressionBuilder<DB, 'model_versions'>) =>
  eb.or(bases.map((b) => eb.and([eb('base_model', '=', b.model), eb('base_version', '=', b.version)])));

const byRef = (a: ModelVersion, b: ModelVersion): number =>
  a.tenantId.localeCompare(b.tenantId) || a.model.localeCompare(b.model) || a.version - b.version;
