// The durable job table: tenants queue, workers claim by weighted fair share, heartbeat a lease and finish.
// Every move of a job's state goes through nextState (src/core/jobs.ts). Locks are always taken in one
// order — a tenant's, then (claims only) the claim lock, then job rows — so they never deadlock
// (docs/scheduling.md).
import type { Selectable } from 'kysely';
import { AppError } from '../../../core/errors.ts';
import {
  type Job,
  type JobEvent,
  type JobProgress,
  type JobState,
  nextState,
  type TrainSpec,
} from '../../../core/jobs.ts';
import { effectiveQuotas, type Quotas, TIER_WEIGHTS, type Tier } from '../../../core/tiers.ts';
import {
  DEFAULT_HALF_LIFE_SECONDS,
  decayUsage,
  fairShareOrder,
  type TenantLoad,
} from '../../../jobs/fair-share.ts';
import type { ClaimRequest, JobOutcome, JobRepo } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import type { JobsTable } from '../schema.ts';
import { bool, num } from './rows.ts';
import { readTierEdits } from './tier-quotas.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * Retry-After of a full queue, seconds. The queue drains as the tenant's jobs finish, which takes minutes
 * at the sizes the quotas allow; half a minute keeps clients from hammering without stalling them long.
 */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 30;

/** The key of the cluster-wide claim lock; `_` starts no tenant id (src/core/ids.ts). */
const CLAIMS_LOCK = '_claims';

const iso = (t: string | number): string => new Date(t).toISOString();

const parse = <T>(text: string | null): T | null => (text == null ? null : (JSON.parse(text) as T));

export function toJob(r: Selectable<JobsTable>): Job {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    kind: r.kind as Job['kind'],
    state: r.state as JobState,
    priority: num(r.priority),
    spec: JSON.parse(r.spec) as TrainSpec,
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    cancelRequested: bool(r.cancel_requested),
    progress: parse<JobProgress>(r.progress),
    limits: JSON.parse(r.limits) as Job['limits'],
    cpuSeconds: num(r.cpu_seconds),
    wallSeconds: num(r.wall_seconds),
    error: r.error,
    result: parse<Job['result']>(r.result),
    createdAt: r.created_at,
    createdBy: r.created_by,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

const OUTCOME_EVENT: Record<JobOutcome['state'], JobEvent> = {
  succeeded: 'succeed',
  failed: 'fail',
  cancelled: 'cancel',
  timed_out: 'timeout',
};

/**
 * The state a running job moves to on `event`. When its cancel was requested, an attempt that failed or
 * lost its worker ends the job as cancelled: the user asked for that, and a requeue would run it again.
 */
function afterRunning(event: JobEvent, attemptsLeft: number, cancelRequested: boolean): JobState {
  let next = nextState('running', event, attemptsLeft);
  if (cancelRequested && (next === 'queued' || next === 'failed'))
    next = nextState('running', 'cancel', attemptsLeft);
  if (next === null) throw new Error(`tenantml: no transition from running on ${event}`);
  return next;
}

interface Candidates {
  loads: TenantLoad[];
  globalRunning: number;
}

/** Every tenant with queued jobs, with what the fair scheduler weighs; and the cluster's running count. */
async function candidates(trx: Db, nowMs: number, halfLifeSeconds: number): Promise<Candidates> {
  // The operator's tier edits, read in the claiming transaction: an edit holds from the next claim.
  const edits = await readTierEdits(trx);
  const rows = await trx
    .selectFrom('jobs as j')
    .innerJoin('tenants as t', 't.id', 'j.tenant_id')
    .leftJoin('fair_share_usage as u', 'u.tenant_id', 'j.tenant_id')
    .where('j.state', 'in', ['queued', 'running'])
    .groupBy(['j.tenant_id', 't.tier', 't.quota_overrides', 'u.cpu_seconds', 'u.updated_at'])
    .select((eb) => [
      'j.tenant_id as tenantId',
      't.tier as tier',
      't.quota_overrides as overrides',
      'u.cpu_seconds as usage',
      'u.updated_at as usageAt',
      eb.fn.sum<number | string>(eb.case().when('j.state', '=', 'queued').then(1).else(0).end()).as('queued'),
      eb.fn
        .sum<number | string>(eb.case().when('j.state', '=', 'running').then(1).else(0).end())
        .as('running'),
      eb.fn
        .min<string | null>(eb.case().when('j.state', '=', 'queued').then(eb.ref('j.created_at')).end())
        .as('oldest'),
    ])
    .execute();
  let globalRunning = 0;
  const loads: TenantLoad[] = [];
  for (const r of rows) {
    const running = num(r.running);
    globalRunning += running;
    if (num(r.queued) === 0 || r.oldest == null) continue;
    const tier = r.tier as Tier;
    const quotas = effectiveQuotas(tier, JSON.parse(r.overrides) as Partial<Quotas>, edits);
    loads.push({
      tenantId: r.tenantId,
      running,
      decayedCpuSeconds:
        r.usage == null || r.usageAt == null
          ? 0
          : decayUsage(num(r.usage), Date.parse(r.usageAt), nowMs, halfLifeSeconds),
      weight: TIER_WEIGHTS[tier] ?? 1,
      cap: quotas.concurrentJobs,
      oldestQueuedAt: Date.parse(r.oldest),
    });
  }
  return { loads, globalRunning };
}

/** One of a tenant's jobs, or null. */
async function oneJob(trx: Db, tenantId: string, id: string): Promise<Job | null> {
  const row = await trx
    .selectFrom('jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toJob(row) : null;
}

export function jobRepo(ctx: SqlContext): JobRepo {
  // Row locks exist where several processes write; SQLite's one writer already runs claims one at a time.
  const rowLocks = !ctx.capabilities.singleWriter;

  /**
   * One claiming transaction: the best tenant (excluding those already found unclaimable), its lock, a
   * re-count against its cap, then its next job. `retry` names a tenant that had nothing to give.
   */
  const claimOnce = (req: ClaimRequest, nowMs: number, excluded: ReadonlySet<string>) =>
    ctx.system(async (trx): Promise<{ job: Job } | { retry: string } | null> => {
      const { loads, globalRunning } = await candidates(trx, nowMs, req.halfLifeSeconds);
      const order = fairShareOrder(
        loads.filter((l) => !excluded.has(l.tenantId)),
        { running: globalRunning, cap: req.globalCap },
      );
      const tenantId = order[0];
      if (tenantId === undefined) return null;
      const cap = loads.find((l) => l.tenantId === tenantId)?.cap ?? 0;
      // Another worker may have claimed for this tenant between our read and the lock: count again under it.
      await ctx.lockTenant(trx, tenantId);
      // The global cap is shared by all tenants, so claims also serialize on one cluster-wide key, always
      // taken after a tenant's lock and by nothing else: no cycle can form, and the count below is exact.
      await ctx.lockTenant(trx, CLAIMS_LOCK);
      const running = await trx
        .selectFrom('jobs')
        .select((eb) => [
          eb.fn.countAll<number | string>().as('all'),
          eb.fn
            .sum<number | string | null>(eb.case().when('tenant_id', '=', tenantId).then(1).else(0).end())
            .as('mine'),
        ])
        .where('state', '=', 'running')
        .executeTakeFirstOrThrow();
      if (num(running.all) >= req.globalCap) return null;
      if (num(running.mine) >= cap) return { retry: tenantId };
      let pick = trx
        .selectFrom('jobs')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('state', '=', 'queued')
        .orderBy('priority', 'desc')
        .orderBy('created_at')
        .orderBy('seq')
        .limit(1);
      if (rowLocks) pick = pick.forUpdate().skipLocked();
      const now = iso(nowMs);
      const row = await trx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          attempts: eb('attempts', '+', 1),
          lease_owner: req.workerId,
          lease_expires_at: iso(nowMs + req.leaseMs),
          started_at: eb.fn.coalesce('started_at', eb.val(now)),
          cancel_requested: false,
        }))
        .where('id', '=', pick)
        .where('state', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      return row ? { job: toJob(row) } : { retry: tenantId };
    });

  return {
    enqueue: (scope, job, limits) =>
      ctx.scoped(scope, async (trx) => {
        const tenantId = scope.tenantId;
        await ctx.lockTenant(trx, tenantId); // the count and the insert stay exact under concurrent enqueues
        const { n } = await trx
          .selectFrom('jobs')
          .select((e) => e.fn.countAll().as('n'))
          .where('tenant_id', '=', tenantId)
          .where('state', '=', 'queued')
          .executeTakeFirstOrThrow();
        const used = num(n as number | string);
        if (used >= limits.maxQueued)
          throw new AppError(
            'queue_full',
            `the tenant has ${used} jobs queued, its limit is ${limits.maxQueued}`,
            {
              extra: { quota: 'queuedJobs', limit: limits.maxQueued, used },
              headers: { 'Retry-After': String(QUEUE_FULL_RETRY_AFTER_SECONDS) },
            },
          );
        const row = await trx
          .insertInto('jobs')
          .values({
            id: job.id,
            tenant_id: tenantId,
            kind: job.kind,
            state: 'queued',
            priority: job.priority,
            model: job.spec.model,
            spec: JSON.stringify(job.spec),
            attempts: 0,
            max_attempts: job.maxAttempts,
            lease_owner: null,
            lease_expires_at: null,
            cancel_requested: false,
            progress: null,
            limits: JSON.stringify(job.limits),
            cpu_seconds: 0,
            wall_seconds: 0,
            error: null,
            result: null,
            created_at: iso(job.createdAt),
            created_by: job.createdBy,
            started_at: null,
            finished_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new AppError('conflict', `job ${job.id} already exists`);
        return toJob(row);
      }),

    get: (scope, id) => ctx.scoped(scope, (trx) => oneJob(trx, scope.tenantId, id)),

    getById: (jobId) =>
      ctx.system(async (trx) => {
        const row = await trx
          .selectFrom('jobs')
          .select('tenant_id')
          .where('id', '=', jobId)
          .executeTakeFirst();
        return row ? oneJob(trx, row.tenant_id, jobId) : null;
      }),

    list: (scope, filter = {}) =>
      ctx.scoped(scope, async (trx) => {
        let q = trx.selectFrom('jobs').selectAll().where('tenant_id', '=', scope.tenantId);
        if (filter.state !== undefined) q = q.where('state', '=', filter.state);
        if (filter.model !== undefined) q = q.where('model', '=', filter.model);
        const limit = Math.max(1, Math.min(filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT));
        const rows = await q.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(limit).execute();
        return rows.map(toJob);
      }),

    // Each step is one conditional UPDATE, so a claim racing the cancel either came first (the job is
    // running: flag it) or comes after (it finds the job cancelled).
    requestCancel: (scope, id, at) =>
      ctx.scoped(scope, async (trx) => {
        const mine = trx.updateTable('jobs').where('tenant_id', '=', scope.tenantId).where('id', '=', id);
        const cancelled = await mine
          .set({ state: nextState('queued', 'cancel', 0) as JobState, finished_at: iso(at) })
          .where('state', '=', 'queued')
          .returningAll()
          .executeTakeFirst();
        if (cancelled) return toJob(cancelled);
        const flagged = await mine
          .set({ cancel_requested: true })
          .where('state', '=', 'running')
          .returningAll()
          .executeTakeFirst();
        if (flagged) return toJob(flagged);
        return oneJob(trx, scope.tenantId, id);
      }),

    claim: async (req) => {
      const nowMs = Date.parse(req.now);
      const excluded = new Set<string>();
      // Each pass locks at most one tenant, and a pass that finds the tenant unclaimable (a racing worker
      // filled its cap) ends its transaction before the next tenant is tried: no lock is held while waiting.
      for (;;) {
        const r = await claimOnce(req, nowMs, excluded);
        if (r === null) return null;
        if ('job' in r) return r.job;
        excluded.add(r.retry);
      }
    },

    heartbeat: (jobId, workerId, leaseExpiresAt, progress) =>
      ctx.system(async (trx) => {
        const row = await trx
          .updateTable('jobs')
          .set((eb) => ({
            lease_expires_at: iso(leaseExpiresAt),
            progress: progress === null ? eb.ref('progress') : eb.val(JSON.stringify(progress)),
          }))
          .where('id', '=', jobId)
          .where('lease_owner', '=', workerId)
          .where('state', '=', 'running')
          .returning('cancel_requested')
          .executeTakeFirst();
        return row
          ? { ok: true, cancelRequested: bool(row.cancel_requested) }
          : { ok: false, cancelRequested: false };
      }),

    finish: (jobId, workerId, outcome) =>
      ctx.system(async (trx) => {
        const owner = await trx
          .selectFrom('jobs')
          .select('tenant_id')
          .where('id', '=', jobId)
          .executeTakeFirst();
        if (!owner) return null;
        await ctx.lockTenant(trx, owner.tenant_id); // tenant before row: the claim's lock order
        let held = trx
          .selectFrom('jobs')
          .selectAll()
          .where('id', '=', jobId)
          .where('lease_owner', '=', workerId)
          .where('state', '=', 'running');
        if (rowLocks) held = held.forUpdate();
        const cur = await held.executeTakeFirst();
        if (!cur) return null;
        // A permanent failure (the data can never train) is not worth another attempt.
        const attemptsLeft = outcome.retry === false ? 0 : num(cur.max_attempts) - num(cur.attempts);
        const state = afterRunning(OUTCOME_EVENT[outcome.state], attemptsLeft, bool(cur.cancel_requested));
        const at = iso(outcome.at);
        const cpu = Math.max(0, outcome.cpuSeconds);
        const row = await trx
          .updateTable('jobs')
          .set({
            state,
            lease_owner: null,
            lease_expires_at: null,
            cpu_seconds: num(cur.cpu_seconds) + cpu,
            wall_seconds: num(cur.wall_seconds) + Math.max(0, outcome.wallSeconds),
            error:
              outcome.state === 'succeeded'
                ? null
                : (outcome.error ?? (outcome.state === 'failed' ? 'failed' : cur.error)),
            result:
              outcome.state === 'succeeded' && outcome.result ? JSON.stringify(outcome.result) : cur.result,
            finished_at: state === 'queued' ? null : at,
          })
          .where('id', '=', jobId)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (cpu > 0) {
          const halfLife = outcome.halfLifeSeconds ?? DEFAULT_HALF_LIFE_SECONDS;
          const usage = await trx
            .selectFrom('fair_share_usage')
            .selectAll()
            .where('tenant_id', '=', cur.tenant_id)
            .executeTakeFirst();
          const before = usage
            ? decayUsage(num(usage.cpu_seconds), Date.parse(usage.updated_at), Date.parse(at), halfLife)
            : 0;
          // A finish reported with an older clock than the last charge keeps the newer timestamp.
          const updatedAt = usage && usage.updated_at > at ? usage.updated_at : at;
          await trx
            .insertInto('fair_share_usage')
            .values({ tenant_id: cur.tenant_id, cpu_seconds: before + cpu, updated_at: updatedAt })
            .onConflict((oc) =>
              oc.column('tenant_id').doUpdateSet({ cpu_seconds: before + cpu, updated_at: updatedAt }),
            )
            .execute();
        }
        return toJob(row);
      }),

    requeueExpired: (now) =>
      ctx.system(async (trx) => {
        const at = iso(now);
        let q = trx
          .selectFrom('jobs')
          .select(['id', 'attempts', 'max_attempts', 'cancel_requested'])
          .where('state', '=', 'running')
          .where('lease_expires_at', '<', at)
          .orderBy('seq');
        // A lease being renewed or finished right now is skipped: its worker is alive after all.
        if (rowLocks) q = q.forUpdate().skipLocked();
        const expired = await q.execute();
        const out = { requeued: [] as string[], failed: [] as string[], cancelled: [] as string[] };
        for (const j of expired) {
          const attempts = num(j.attempts);
          const state = afterRunning(
            'lease_expired',
            num(j.max_attempts) - attempts,
            bool(j.cancel_requested),
          );
          const error =
            state === 'failed'
              ? `worker lost (lease expired) after ${attempts} attempts`
              : `worker lost (lease expired) during attempt ${attempts}`;
          await trx
            .updateTable('jobs')
            .set({
              state,
              lease_owner: null,
              lease_expires_at: null,
              error,
              finished_at: state === 'queued' ? null : at,
            })
            .where('id', '=', j.id)
            .where('state', '=', 'running')
            .execute();
          (state === 'queued' ? out.requeued : state === 'failed' ? out.failed : out.cancelled).push(j.id);
        }
        return out;
      }),

    counts: () =>
      ctx.system(async (trx) => {
        const rows = await trx
          .selectFrom('jobs')
          .where('state', 'in', ['queued', 'running'])
          .groupBy('tenant_id')
          .select((eb) => [
            'tenant_id',
            eb.fn
              .sum<number | string>(eb.case().when('state', '=', 'queued').then(1).else(0).end())
              .as('queued'),
            eb.fn
              .sum<number | string>(eb.case().when('state', '=', 'running').then(1).else(0).end())
              .as('running'),
          ])
          .orderBy('tenant_id')
          .execute();
        return rows.map((r) => ({ tenantId: r.tenant_id, queued: num(r.queued), running: num(r.running) }));
      }),

    countOf: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('jobs')
          .where('tenant_id', '=', scope.tenantId)
          .where('state', 'in', ['queued', 'running'])
          .groupBy('state')
          .select((eb) => ['state', eb.fn.countAll<number | string>().as('n')])
          .execute();
        const n = (state: string) => num(rows.find((r) => r.state === state)?.n ?? 0);
        return { queued: n('queued'), running: n('running') };
      }),
  };
}
