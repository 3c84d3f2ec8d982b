// The advisor: for one tenant and one model name, trains a tenant-specific candidate and — when a
// trainable shared model of that name is published to the tenant — a tuned candidate, both as ordinary
// jobs with the same seed and validation share on the same dataset version, so both are measured on the
// same held-out rows; the tuned job also measures the shared base on those rows. When both jobs have
// ended, the pure policy (src/core/advice.ts) picks, and with autoPromote the pick goes live.

import { type AdviceInput, type AdviceResult, type Candidate, recommend } from '../core/advice.ts';
import type { Clock, Random } from '../core/clock.ts';
import { invalid, notFound } from '../core/errors.ts';
import { nameProblem, newId } from '../core/ids.ts';
import { type Job, TERMINAL_STATES } from '../core/jobs.ts';
import { SYSTEM, sharedScope, type TenantScope } from '../core/scope.ts';
import type { Advice, Store } from '../store/ports.ts';
import { publishedTo } from './registry.ts';
import { DEFAULT_VALID_FRACTION, seedOf, type TrainingService } from './training.ts';

export interface AdviseRequest {
  dataset: string;
  /** Dataset version; the latest when absent. */
  version?: number;
  target: string;
  /** Make the recommended tenant or tuned candidate live when the advice is done (default false). */
  autoPromote?: boolean;
}

export interface AdvisorDeps {
  store: Pick<Store, 'advice' | 'models' | 'jobs' | 'datasets'>;
  training: Pick<TrainingService, 'submit' | 'check'>;
  clock: Clock;
  random: Random;
}

export class AdvisorService {
  constructor(private readonly deps: AdvisorDeps) {}

  async advise(scope: TenantScope, model: string, req: AdviseRequest): Promise<Advice> {
    if (typeof req !== 'object' || req === null) throw invalid('body', 'must be an object');
    if (req.autoPromote !== undefined && typeof req.autoPromote !== 'boolean')
      throw invalid('autoPromote', 'must be a boolean');
    const id = newId('adv', this.deps.random);
    const seed = seedOf(id);
    const shared = await this.sharedCandidate(scope, model);
    const common = {
      dataset: req.dataset,
      ...(req.version !== undefined ? { version: req.version } : {}),
      target: req.target,
      seed,
      validFraction: DEFAULT_VALID_FRACTION,
    };
    const tenantJob = await this.deps.training.submit(scope, model, common, { advice: id });
    let tunedJob: Job | null = null;
    if (shared?.trainable) {
      tunedJob = await this.deps.training.submit(
        scope,
        model,
        {
          ...common,
          version: tenantJob.spec.datasetVersion,
          mode: 'tuned',
          base: `${model}@${shared.version}`,
        },
        { advice: id },
      );
    }
    return this.deps.store.advice.create(scope, {
      id,
      model,
      dataset: tenantJob.spec.dataset,
      datasetVersion: tenantJob.spec.datasetVersion,
      target: req.target,
      shared: shared ? { model, version: shared.version } : null,
      jobs: { tenant: tenantJob.id, tuned: tunedJob?.id ?? null },
      autoPromote: req.autoPromote ?? false,
      createdAt: this.deps.clock.now().toISOString(),
      createdBy: scope.actor.keyId,
    });
  }

  /** Newest first. */
  list(scope: TenantScope, model: string): Promise<Advice[]> {
    if (nameProblem(model)) throw notFound('model');
    return this.deps.store.advice.list(scope, model);
  }

  /** Called for every job that ends: completes its advice once all of the advice's jobs have ended. */
  async onJobFinished(scope: TenantScope, job: Job): Promise<Advice | null> {
    const id = job.spec.advice;
    if (!id) return null;
    const advice = await this.deps.store.advice.get(scope, id);
    if (advice?.state !== 'running') return null;
    const jobs = await Promise.all(
      [advice.jobs.tenant, advice.jobs.tuned]
        .filter((j): j is string => j !== null)
        .map((j) => (j === job.id ? job : this.deps.store.jobs.get(scope, j))),
    );
    if (jobs.some((j) => !j || !TERMINAL_STATES.has(j.state))) return null;
    const at = this.deps.clock.now().toISOString();
    const [tenantJob, tunedJob] = [jobs[0] as Job, (jobs[1] ?? null) as Job | null];
    const candidates: Candidate[] = [];
    const seen: { task: AdviceInput['task'] | null; validRows: number } = { task: null, validRows: 0 };
    const addFrom = async (j: Job | null, mode: 'tenant' | 'tuned'): Promise<void> => {
      if (j?.state !== 'succeeded' || !j.result) return;
      const v = await this.deps.store.models.version(scope, j.result.model, j.result.version);
      if (!v) return;
      seen.task ??= v.task as AdviceInput['task'];
      seen.validRows = Math.max(seen.validRows, v.metrics.n ?? 0);
      candidates.push({
        mode,
        ref: { model: v.model, version: v.version },
        metrics: v.metrics,
        algorithm: v.algorithm,
      });
      if (mode === 'tuned' && j.result.baseMetrics && advice.shared)
        candidates.push({ mode: 'shared', ref: advice.shared, metrics: j.result.baseMetrics });
    };
    await addFrom(tenantJob, 'tenant');
    await addFrom(tunedJob, 'tuned');
    const { task, validRows } = seen;
    if (task === null) {
      return this.deps.store.advice.finish(scope, id, {
        state: 'failed',
        result: null,
        error: `no candidate could be trained (${[tenantJob, tunedJob]
          .filter((j): j is Job => j !== null)
          .map((j) => `${j.spec.mode}: ${j.error ?? j.state}`)
          .join('; ')})`,
        at,
      });
    }
    const choice = recommend({ task, validRows, candidates });
    let promoted: AdviceResult['promoted'] = null;
    const reasons = [...choice.reasons];
    if (advice.autoPromote) {
      const pick = choice.candidates.find((c) => c.mode === choice.recommendation);
      if (pick?.mode !== 'shared' && pick?.ref) {
        await this.deps.store.models.promote(scope, pick.ref.model, pick.ref.version, 'system', at);
        promoted = pick.ref;
        reasons.push(`${pick.ref.model}@${pick.ref.version} was made live (autoPromote)`);
      } else if (pick?.mode === 'shared') {
        reasons.push(
          'the shared model is recommended: it answers this tenant only while the tenant has no live version of its own',
        );
      }
    }
    return this.deps.store.advice.finish(scope, id, {
      state: 'done',
      result: { ...choice, reasons, promoted },
      error: null,
      at,
    });
  }

  /** The shared model of this name the tenant would resolve, and whether it can be tuned. */
  private async sharedCandidate(
    scope: TenantScope,
    model: string,
  ): Promise<{ version: number; trainable: boolean } | null> {
    if (nameProblem(model)) return null;
    const shared = sharedScope(SYSTEM);
    const summary = await this.deps.store.models.get(shared, model);
    if (!summary || summary.liveVersion === null || !publishedTo(summary.audience, scope.tenantId))
      return null;
    const v = await this.deps.store.models.version(shared, model, summary.liveVersion);
    if (!v) return null;
    return { version: v.version, trainable: v.algorithm !== 'onnx' && v.status === 'ok' };
  }
}
