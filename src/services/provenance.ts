// Provenance and consent: which model versions hold a tenant's data, and what happens when that data may
// no longer be used. A withdrawal (consent off, dataset deleted, tenant deleted) taints every shared
// version built on it — and with them the tuned versions built on those — and queues a retraining of each
// affected live shared model; the retrained successor replaces the tainted version when it registers
// (ModelRepo.register), and tuned models on it are retrained on the clean base in turn.
import type { Clock } from '../core/clock.ts';
import type { Job, ModelRef, TrainSpec } from '../core/jobs.ts';
import { mintTenantScope, SHARED_NAMESPACE, SYSTEM, sharedScope, type TenantScope } from '../core/scope.ts';
import type { ModelVersion, ProvenanceRecord, Store } from '../store/ports.ts';
import { publishedTo } from './registry.ts';
import type { TrainingService } from './training.ts';

export type WithdrawalReason = 'consent-withdrawn' | 'dataset-deleted' | 'tenant-deleted';

export interface Withdrawal {
  tenantId: string;
  reason: WithdrawalReason;
  /** dataset-deleted: the dataset's name. */
  dataset?: string;
}

/** What a withdrawal did: the versions newly tainted and the retraining jobs queued. */
export interface WithdrawalOutcome {
  tainted: (ModelRef & { tenantId: string; mode: string })[];
  retraining: { model: string; jobId: string }[];
}

export interface ProvenanceLog {
  warn(obj: object, msg: string): void;
}

export interface ProvenanceDeps {
  store: Pick<Store, 'models' | 'jobs' | 'tenants'>;
  training: Pick<TrainingService, 'requeue'>;
  clock: Clock;
  log?: ProvenanceLog;
}

/** A tenant's own answer to "how is my data used?". */
export interface TenantProvenance {
  tenantId: string;
  /** Shared versions trained on this tenant's data (and how many rows it gave). */
  contributions: {
    model: string;
    version: number;
    status: string;
    live: boolean;
    dataset: string;
    datasetVersion: number;
    rows: number;
  }[];
  /** Tuned models of other tenants built on those versions: a count, never their names. */
  tunedElsewhere: number;
  /** Shared models this tenant may use (published to it), and its own tuned models built on them. */
  sharedInUse: { model: string; liveVersion: number | null; tunedBy: { model: string; version: number }[] }[];
}

export class ProvenanceService {
  constructor(private readonly deps: ProvenanceDeps) {}

  /** Operator: every model version holding the tenant's data, directly or through a tuned model's base. */
  holdingDataOf(tenantId: string): Promise<ProvenanceRecord[]> {
    return this.deps.store.models.holdingDataOf(tenantId);
  }

  /** The tenant's own view: its contributions, and the shared models it uses. */
  async forTenant(scope: TenantScope): Promise<TenantProvenance> {
    const models = this.deps.store.models;
    const rows = await models.holdingDataOf(scope.tenantId);
    const contributions = rows
      .filter((r) => r.tenantId === SHARED_NAMESPACE && r.via === null)
      .map((r) => ({
        model: r.model,
        version: r.version,
        status: r.status,
        live: r.live,
        dataset: r.source.dataset,
        datasetVersion: r.source.version,
        rows: r.source.rows,
      }));
    const elsewhere = new Set(
      rows
        .filter((r) => r.via !== null && r.tenantId !== scope.tenantId)
        .map((r) => `${r.tenantId}/${r.model}@${r.version}`),
    );
    const shared = sharedScope(SYSTEM);
    const own = await models.list(scope);
    const tuned: ModelVersion[] = [];
    for (const m of own) for (const v of await models.versions(scope, m.name)) if (v.base) tuned.push(v);
    const sharedInUse: TenantProvenance['sharedInUse'] = [];
    for (const m of await models.list(shared)) {
      const mine = tuned.filter((v) => v.base?.model === m.name);
      if (!publishedTo(m.audience, scope.tenantId) && mine.length === 0) continue;
      sharedInUse.push({
        model: m.name,
        liveVersion: m.liveVersion,
        tunedBy: mine.map((v) => ({ model: v.model, version: v.version })),
      });
    }
    return { tenantId: scope.tenantId, contributions, tunedElsewhere: elsewhere.size, sharedInUse };
  }

  /**
   * Taints what the withdrawn data trained and queues the retraining of every live shared model among
   * them (once: not when one is already queued or running). Safe to call again for the same withdrawal.
   */
  async withdraw(w: Withdrawal): Promise<WithdrawalOutcome> {
    const { store } = this.deps;
    const held = await store.models.holdingDataOf(
      w.tenantId,
      w.reason === 'dataset-deleted' ? w.dataset : undefined,
    );
    const sharedRefs = unique(
      held.filter((r) => r.tenantId === SHARED_NAMESPACE && r.via === null),
      (r) => `${r.model}@${r.version}`,
    ).map((r) => ({ tenantId: r.tenantId, model: r.model, version: r.version }));
    const at = this.deps.clock.now().toISOString();
    const reason = `${w.reason}: tenant ${w.tenantId}${w.dataset ? `, dataset ${w.dataset}` : ''}`;
    const newly = sharedRefs.length > 0 ? await store.models.taint(sharedRefs, reason, at) : [];
    // Retrain each affected shared model whose live version is tainted (new or earlier taint alike).
    const retraining: WithdrawalOutcome['retraining'] = [];
    const shared = sharedScope(SYSTEM);
    for (const model of new Set(sharedRefs.map((r) => r.model))) {
      const job = await this.retrainShared(shared, model);
      if (job) retraining.push({ model, jobId: job.id });
    }
    return {
      tainted: newly.map((v) => ({ tenantId: v.tenantId, model: v.model, version: v.version, mode: v.mode })),
      retraining,
    };
  }

  /**
   * After a job ends: when a shared model got a clean new version, retrain on it every tuned model whose
   * live version is tainted because of its old base.
   */
  async onJobFinished(job: Job): Promise<{ model: string; tenantId: string; jobId: string }[]> {
    if (job.tenantId !== SHARED_NAMESPACE || job.state !== 'succeeded' || !job.result) return [];
    const shared = sharedScope(SYSTEM);
    const fresh = await this.deps.store.models.version(shared, job.result.model, job.result.version);
    if (!fresh) return [];
    if (fresh.status === 'tainted') {
      // A source was withdrawn while this job trained (the withdrawal found it busy and queued nothing):
      // train again now, on the tenants that still consent.
      const again = await this.retrainShared(shared, fresh.model);
      return again ? [{ model: fresh.model, tenantId: SHARED_NAMESPACE, jobId: again.id }] : [];
    }
    const queued: { model: string; tenantId: string; jobId: string }[] = [];
    const tuned = await this.deps.store.models.tunedOn(fresh.model);
    for (const v of tuned) {
      if (v.status !== 'tainted' || !v.jobId) continue;
      const scope = mintTenantScope(v.tenantId, SYSTEM);
      const summary = await this.deps.store.models.get(scope, v.model);
      if (summary?.liveVersion !== v.version) continue; // only what is being served needs a successor
      if (await this.busy(scope, v.model)) continue;
      const old = await this.deps.store.jobs.get(scope, v.jobId);
      if (!old) continue;
      const spec: TrainSpec = { ...old.spec, base: { model: fresh.model, version: fresh.version } };
      try {
        const j = await this.deps.training.requeue(scope, spec, 'retune-on-successor');
        queued.push({ model: v.model, tenantId: v.tenantId, jobId: j.id });
      } catch (err) {
        this.deps.log?.warn({ tenantId: v.tenantId, model: v.model, err: String(err) }, 'retune not queued');
      }
    }
    return queued;
  }

  private async retrainShared(shared: TenantScope, model: string): Promise<Job | null> {
    const { store } = this.deps;
    const summary = await store.models.get(shared, model);
    if (!summary || summary.liveVersion === null) return null;
    const live = await store.models.version(shared, model, summary.liveVersion);
    if (live?.status !== 'tainted' || !live.jobId) return null;
    if (await this.busy(shared, model)) return null;
    const old = await store.jobs.get(shared, live.jobId);
    if (!old) return null;
    return this.deps.training.requeue(shared, old.spec, 'retrain-after-taint');
  }

  /** A job for this model is already queued or running in the namespace. */
  private async busy(scope: TenantScope, model: string): Promise<boolean> {
    for (const state of ['queued', 'running'] as const) {
      if ((await this.deps.store.jobs.list(scope, { state, model, limit: 1 })).length > 0) return true;
    }
    return false;
  }
}

function unique<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
