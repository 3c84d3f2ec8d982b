// Training use cases: a request is checked against the dataset version it names (target, task, params,
// the tenant's training-rows quota) before anything is queued, then becomes a job with limits taken from
// the tenant's quotas. Workers (src/jobs/) run it; this module only queues, lists and cancels.
import { createHash } from 'node:crypto';
import type { Clock, Random } from '../core/clock.ts';
import { AppError, type FieldError, invalidFields, notFound } from '../core/errors.ts';
import { isTenantId, nameProblem, newId } from '../core/ids.ts';
import type {
  Audience,
  Job,
  JobFilter,
  ModelRef,
  PoolSpec,
  TrainAlgorithm,
  TrainSpec,
} from '../core/jobs.ts';
import { monthOf, type UsageTotals } from '../core/metering.ts';
import { mintTenantScope, SHARED_NAMESPACE, SYSTEM, sharedScope, type TenantScope } from '../core/scope.ts';
import { effectiveQuotas, type Quotas } from '../core/tiers.ts';
import type { ColumnSchema, DatasetVersion, Tenant } from '../core/types.ts';
import { MAX_CLASSES, MAX_INFERRED_CLASSES, MAX_TARGET_MISSING } from '../ml/frame.ts';
import { checkParams } from '../ml/params.ts';
import { MIN_TRAIN_ROWS } from '../ml/train.ts';
import type { Task } from '../ml/types.ts';
import type { ModelVersion, NewJob, Store } from '../store/ports.ts';
import { publishedTo } from './registry.ts';
import { audienceProblem } from './shared-models.ts';

export interface TrainRequest {
  dataset: string;
  /** Dataset version; the latest when absent. */
  version?: number;
  target: string;
  /** Inferred from the target column when absent, the way trainModel does. */
  task?: Task;
  algorithm?: TrainAlgorithm;
  mode?: 'tenant' | 'tuned';
  base?: string;
  params?: Record<string, unknown>;
  /** Fixes the random split and the trees' sampling; derived from the job id when absent. */
  seed?: number;
  /** Share of labelled rows held out for validation, in (0, 0.5]; 0.2 when absent. */
  validFraction?: number;
  /** Higher runs first among this tenant's jobs; 0 when absent. */
  priority?: number;
}

/** Operator: POST /v1/shared/models/{name}/train. */
export interface SharedTrainRequest {
  /** The dataset name looked up in every consenting tenant (each one's latest version). */
  dataset: string;
  target: string;
  task?: Task;
  algorithm?: TrainAlgorithm;
  params?: Record<string, unknown>;
  /** At most this many rows from one tenant (a seeded sample). */
  maxRowsPerTenant?: number;
  /** Feature columns to pool (default: those most tenants have with a compatible type). */
  features?: string[];
  /** Only these tenants may contribute (consent is still required). */
  tenants?: string[];
  /** Publish the model with its first version to every tenant ('all') or to the listed ones. */
  publish?: Audience;
  seed?: number;
  validFraction?: number;
  priority?: number;
}

export const MAX_ATTEMPTS = 3;
export const DEFAULT_VALID_FRACTION = 0.2;
const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression'];
const ALGORITHMS: readonly TrainAlgorithm[] = ['auto', 'linear', 'gbdt'];

export interface TrainingDeps {
  store: Pick<Store, 'jobs' | 'datasets' | 'models'>;
  tenants: {
    get(id: string): Promise<Tenant>;
    list(): Promise<Tenant[]>;
    quotas(t: Tenant): Quotas;
    /** The quotas in force with the operator's tier edits read fresh (TenantService.quotasOf). */
    quotasOf?(t: Tenant): Promise<Quotas>;
  };
  clock: Clock;
  random: Random;
  /** The tenant's usage this month, for the cpuSecondsPerMonth quota (UsageService.monthToDate). */
  usage?: { monthToDate(scope: TenantScope, month?: string): Promise<{ ownUsage: UsageTotals }> };
  /** The budget's hard limit: throws 402 budget_exceeded when it refuses new jobs (BudgetService). */
  budgets?: { checkTraining(scope: TenantScope): Promise<void> };
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Problems with the request's own shape, before any lookup. */
function shapeErrors(model: string, r: TrainRequest): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, message: string): void => {
    errors.push({ field, message });
  };
  const name = typeof model === 'string' ? nameProblem(model) : 'must be a string';
  if (name) add('model', name);
  if (typeof r !== 'object' || r === null)
    return [...errors, { field: 'body', message: 'must be an object' }];
  if (typeof r.dataset !== 'string' || r.dataset.length === 0) add('dataset', 'is required');
  if (r.version !== undefined && !isInt(r.version, 1, Number.MAX_SAFE_INTEGER))
    add('version', 'must be an integer >= 1');
  if (typeof r.target !== 'string' || r.target.length === 0) add('target', 'is required');
  if (r.task !== undefined && !TASKS.includes(r.task)) add('task', `must be one of ${TASKS.join(', ')}`);
  if (r.algorithm !== undefined && !ALGORITHMS.includes(r.algorithm))
    add('algorithm', `must be one of ${ALGORITHMS.join(', ')}`);
  if (r.mode !== undefined && r.mode !== 'tenant' && r.mode !== 'tuned')
    add('mode', 'must be tenant or tuned');
  if (r.base !== undefined && typeof r.base !== 'string') add('base', 'must be a string');
  if (r.base !== undefined && r.mode !== 'tuned') add('base', "is only for mode 'tuned'");
  if (r.seed !== undefined && !isInt(r.seed, 0, 0xffffffff))
    add('seed', 'must be an integer in 0..4294967295');
  if (
    r.validFraction !== undefined &&
    !(typeof r.validFraction === 'number' && r.validFraction > 0 && r.validFraction <= 0.5)
  )
    add('validFraction', 'must be a number in (0, 0.5]');
  if (r.priority !== undefined && !isInt(r.priority, -100, 100))
    add('priority', 'must be an integer in -100..100');
  if (
    r.params !== undefined &&
    (typeof r.params !== 'object' || r.params === null || Array.isArray(r.params))
  )
    add('params', 'must be an object');
  else if (r.params !== undefined && r.mode !== 'tuned') {
    const algorithm = ALGORITHMS.includes(r.algorithm as TrainAlgorithm) ? (r.algorithm ?? 'auto') : 'auto';
    errors.push(...checkParams(algorithm, r.params));
  }
  return errors;
}

/** The task the target column implies (given, or inferred like trainModel), or why it cannot be one. */
export function targetTask(
  col: ColumnSchema,
  rows: number,
  task: Task | undefined,
): { task: Task; problem?: undefined } | { task?: undefined; problem: string; unprocessable?: boolean } {
  const name = col.name;
  if (col.identifying) {
    return {
      problem: `column '${name}' is marked as identifying (${col.identifyingReasons.join(', ')}); it cannot be a target`,
    };
  }
  const present = rows - col.missing;
  if (rows > 0 && col.missing / rows > MAX_TARGET_MISSING) {
    return { problem: `column '${name}' is missing in ${Math.round((col.missing / rows) * 100)}% of rows` };
  }
  if (present < MIN_TRAIN_ROWS) {
    return {
      problem: `only ${present} rows have a value in column '${name}'; training needs at least ${MIN_TRAIN_ROWS}`,
      unprocessable: true,
    };
  }
  const numeric = col.type === 'numeric' || col.type === 'integer';
  const classLike = col.type === 'boolean' || col.type === 'categorical' || col.type === 'integer';
  let t = task;
  if (t === undefined) {
    if (col.type === 'numeric') t = 'regression';
    else if (col.type === 'integer')
      t =
        col.distinctApprox || col.distinct > MAX_INFERRED_CLASSES
          ? 'regression'
          : col.distinct <= 2
            ? 'binary'
            : 'multiclass';
    else if (classLike) t = col.distinct <= 2 ? 'binary' : 'multiclass';
    else
      return {
        problem: `column '${name}' is ${col.type}; a target must be numeric, integer, boolean or categorical`,
      };
  }
  if (t === 'regression') {
    return numeric
      ? { task: t }
      : { problem: `column '${name}' is ${col.type}; a regression target must be numeric` };
  }
  if (!classLike) {
    return {
      problem: `column '${name}' is ${col.type}; a classification target must be boolean, categorical or integer`,
    };
  }
  if (col.distinctApprox || col.distinct > MAX_CLASSES) {
    return { problem: `column '${name}' has more than ${MAX_CLASSES} distinct values; is it a regression?` };
  }
  if (col.distinct < 2) return { problem: `column '${name}' has a single class; nothing to learn` };
  if (t === 'binary' && col.distinct !== 2) {
    return { problem: `binary classification needs 2 classes, column '${name}' has ${col.distinct}` };
  }
  return { task: t };
}

/** A seed derived from the job id: stable across the job's retries, different between jobs. */
export function seedOf(jobId: string): number {
  return createHash('sha256').update(jobId).digest().readUInt32BE(0);
}

export class TrainingService {
  constructor(private readonly deps: TrainingDeps) {}

  /**
   * Queues a tenant-specific or tuned training job. `internal.advice` ties it to an advice (the advisor
   * submits its candidates through here, so they obey the same checks and quotas); `internal.champion`
   * and `reason` make it a policy-fired challenger (the monitoring loop).
   */
  async submit(
    scope: TenantScope,
    model: string,
    request: TrainRequest,
    internal: { advice?: string; champion?: ModelRef; reason?: TrainSpec['reason'] } = {},
  ): Promise<Job> {
    return (await this.submitOrCheck(scope, model, request, internal)) as Job;
  }

  /** Every check `submit` makes, without queueing anything: it throws what `submit` would. */
  async check(scope: TenantScope, model: string, request: TrainRequest): Promise<void> {
    await this.submitOrCheck(scope, model, request, { dryRun: true });
  }

  private async submitOrCheck(
    scope: TenantScope,
    model: string,
    request: TrainRequest,
    internal: { advice?: string; champion?: ModelRef; reason?: TrainSpec['reason']; dryRun?: boolean },
  ): Promise<Job | null> {
    const errors = shapeErrors(model, request);
    if (request?.mode === 'tuned' && request.base === undefined)
      errors.push({ field: 'base', message: "is required for mode 'tuned': <shared model>[@version]" });
    if (errors.length > 0) {
      throw invalidFields(errors);
    }
    const base = request.mode === 'tuned' ? await this.tunableBase(scope, request.base as string) : undefined;
    const version = await this.datasetVersion(scope, request.dataset, request.version);
    const col = version.schema.columns.find((c) => c.name === request.target);
    if (!col) {
      throw fieldError(
        'validation_failed',
        'target',
        `column '${request.target}' is not in version ${version.version} of the dataset`,
      );
    }
    const fit = targetTask(col, version.rows, request.task ?? (base?.task as Task | undefined));
    if (fit.problem !== undefined) {
      throw fieldError(fit.unprocessable ? 'unprocessable' : 'validation_failed', 'target', fit.problem);
    }
    if (base && fit.task !== base.task) {
      throw fieldError(
        'unprocessable',
        'base',
        `the base model ${base.model}@${base.version} is ${base.task}; this target is ${fit.task}`,
      );
    }

    const tenant = await this.deps.tenants.get(scope.tenantId);
    const quotas = await this.quotasOfTenant(tenant);
    if (version.rows > quotas.trainingRows) {
      throw new AppError(
        'quota_exceeded',
        `the trainingRows quota (${quotas.trainingRows}) is below the ${version.rows} rows of this dataset version`,
        {
          errors: [
            {
              field: 'dataset',
              message: `has ${version.rows} rows; the quota allows ${quotas.trainingRows}`,
            },
          ],
          extra: { quota: 'trainingRows', limit: quotas.trainingRows, used: version.rows },
        },
      );
    }

    await this.checkMonthlyCpu(scope, quotas);
    await this.deps.budgets?.checkTraining(scope);

    if (internal.dryRun) return null;
    const id = newId('job', this.deps.random);
    const spec: TrainSpec = {
      model,
      dataset: version.name,
      datasetVersion: version.version,
      target: request.target,
      ...(request.task ? { task: request.task } : {}),
      algorithm: request.algorithm ?? 'auto',
      mode: base ? 'tuned' : 'tenant',
      ...(base ? { base: { model: base.model, version: base.version } } : {}),
      ...(internal.advice ? { advice: internal.advice } : {}),
      ...(internal.reason ? { reason: internal.reason } : {}),
      ...(internal.champion ? { champion: internal.champion } : {}),
      params: request.params ?? {},
      seed: request.seed ?? seedOf(id),
      validFraction: request.validFraction ?? DEFAULT_VALID_FRACTION,
    };
    return this.enqueue(scope, id, spec, request.priority ?? 0, quotas);
  }

  /**
   * Operator: queues the training of shared model `model` on the pooled, de-identified data of the
   * tenants whose consent is on when the job starts. 422 when no consenting tenant has the dataset now.
   */
  async submitShared(actorScope: TenantScope, model: string, request: SharedTrainRequest): Promise<Job> {
    const errors = shapeErrors(model, { ...request, mode: 'tenant' } as TrainRequest);
    errors.push(...poolErrors(request));
    if (errors.length > 0) {
      throw invalidFields(errors);
    }
    const scope = sharedScope(actorScope.actor);
    for (const id of Array.isArray(request.publish) ? request.publish : []) {
      const known = await this.deps.tenants.get(id).catch(() => null);
      if (!known) throw fieldError('validation_failed', 'publish', `tenant '${id}' does not exist`);
    }
    if ((await this.contributorsNow(request)) === 0) {
      throw fieldError(
        'unprocessable',
        'dataset',
        `no tenant${request.tenants ? ' of those listed' : ''} with shared-training consent has a dataset named '${request.dataset}'`,
      );
    }
    const quotas = await this.quotasOf(SHARED_NAMESPACE);
    const id = newId('job', this.deps.random);
    const pool: PoolSpec = {
      ...(request.maxRowsPerTenant !== undefined ? { maxRowsPerTenant: request.maxRowsPerTenant } : {}),
      ...(request.features !== undefined ? { features: request.features } : {}),
      ...(request.tenants !== undefined ? { tenants: request.tenants } : {}),
    };
    const spec: TrainSpec = {
      model,
      dataset: request.dataset,
      datasetVersion: 0,
      target: request.target,
      ...(request.task ? { task: request.task } : {}),
      // Linear by default: a linear base is what tuning improves on reliably, and what the advisor
      // judges well (npm run bench -- modes; docs/approaches.md).
      algorithm: request.algorithm ?? 'linear',
      mode: 'shared',
      pool,
      ...(request.publish !== undefined ? { audience: request.publish } : {}),
      params: request.params ?? {},
      seed: request.seed ?? seedOf(id),
      validFraction: request.validFraction ?? DEFAULT_VALID_FRACTION,
    };
    return this.enqueue(scope, id, spec, request.priority ?? 0, quotas);
  }

  /**
   * The platform's own retraining: the same spec again (a shared model after a taint, or a tuned model on
   * the clean successor of its base), as a new job of the spec's namespace.
   */
  async requeue(scope: TenantScope, spec: TrainSpec, reason: NonNullable<TrainSpec['reason']>): Promise<Job> {
    const quotas = await this.quotasOf(scope.tenantId);
    const id = newId('job', this.deps.random);
    const { advice: _advice, ...rest } = spec;
    return this.enqueue(scope, id, { ...rest, reason }, 0, quotas);
  }

  /**
   * How many tenants could contribute if the job started now. The job chooses again when it starts
   * (consent may change meanwhile); this only spares the operator a job that could not train.
   */
  private async contributorsNow(r: SharedTrainRequest): Promise<number> {
    const allowed = r.tenants ? new Set(r.tenants) : null;
    let n = 0;
    for (const t of await this.deps.tenants.list()) {
      if (!t.sharedTraining || (allowed && !allowed.has(t.id))) continue;
      if (await this.deps.store.datasets.get(mintTenantScope(t.id, SYSTEM), r.dataset)) n++;
    }
    return n;
  }

  /** The shared namespace is not a tenant anyone manages: its jobs run with the premium tier's limits. */
  private async quotasOf(tenantId: string): Promise<Quotas> {
    if (tenantId === SHARED_NAMESPACE) return effectiveQuotas('premium', {});
    return this.quotasOfTenant(await this.deps.tenants.get(tenantId));
  }

  private quotasOfTenant(t: Tenant): Promise<Quotas> {
    const { tenants } = this.deps;
    return tenants.quotasOf ? tenants.quotasOf(t) : Promise.resolve(tenants.quotas(t));
  }

  /**
   * 422 quota_exceeded when this month's training CPU-seconds have reached cpuSecondsPerMonth. The
   * tenant's own jobs count; its shares of shared-model training are cost (budgets), not its quota.
   */
  private async checkMonthlyCpu(scope: TenantScope, quotas: Quotas): Promise<void> {
    if (!this.deps.usage) return;
    const month = monthOf(this.deps.clock.now());
    const used = (await this.deps.usage.monthToDate(scope, month)).ownUsage.training_cpu_seconds ?? 0;
    if (used < quotas.cpuSecondsPerMonth) return;
    const rounded = Math.round(used * 1000) / 1000;
    throw new AppError(
      'quota_exceeded',
      `the cpuSecondsPerMonth quota (${quotas.cpuSecondsPerMonth}) is used up for ${month} (${rounded} CPU-seconds)`,
      { extra: { quota: 'cpuSecondsPerMonth', limit: quotas.cpuSecondsPerMonth, used: rounded, month } },
    );
  }

  private enqueue(scope: TenantScope, id: string, spec: TrainSpec, priority: number, quotas: Quotas) {
    const job: NewJob = {
      id,
      kind: 'train',
      priority,
      spec,
      maxAttempts: MAX_ATTEMPTS,
      limits: {
        timeoutSeconds: quotas.jobTimeoutSeconds,
        cpuSeconds: quotas.cpuSecondsPerJob,
        heapMb: quotas.jobHeapMb,
      },
      createdAt: this.deps.clock.now().toISOString(),
      createdBy: scope.actor.keyId,
    };
    return this.deps.store.jobs.enqueue(scope, job, { maxQueued: quotas.queuedJobs });
  }

  /**
   * The shared version a tuned model starts from: `<name>[@version]`, published to the tenant (otherwise
   * 404, as if absent), trained here (an imported ONNX model has no parameters to continue from) and clean.
   */
  async tunableBase(scope: TenantScope, ref: string): Promise<ModelVersion> {
    const m = /^([^@]+)(?:@(\d{1,9}))?$/.exec(ref);
    if (!m || nameProblem(m[1]))
      throw fieldError('validation_failed', 'base', 'must be <shared model>[@version]');
    const shared = sharedScope(SYSTEM);
    const summary = await this.deps.store.models.get(shared, m[1]);
    if (!summary || !publishedTo(summary.audience, scope.tenantId)) throw notFound('base model');
    const number = m[2] !== undefined ? Number(m[2]) : summary.liveVersion;
    const v = number === null ? null : await this.deps.store.models.version(shared, m[1], number);
    if (!v) throw notFound('base model version');
    if (v.algorithm === 'onnx')
      throw fieldError(
        'unprocessable',
        'base',
        'an imported ONNX model cannot be tuned (it has no parameters to continue from)',
      );
    if (v.status === 'tainted')
      throw fieldError(
        'unprocessable',
        'base',
        `${v.model}@${v.version} is tainted; tune from its successor`,
      );
    return v;
  }

  list(scope: TenantScope, filter?: JobFilter): Promise<Job[]> {
    return this.deps.store.jobs.list(scope, filter);
  }

  async get(scope: TenantScope, id: string): Promise<Job> {
    const job = await this.deps.store.jobs.get(scope, id);
    if (!job) throw notFound('job');
    return job;
  }

  /** Queued jobs are cancelled at once; running ones are stopped by their worker within seconds. */
  async cancel(scope: TenantScope, id: string): Promise<Job> {
    const job = await this.deps.store.jobs.requestCancel(scope, id, this.deps.clock.now().toISOString());
    if (!job) throw notFound('job');
    return job;
  }

  private async datasetVersion(scope: TenantScope, name: string, version?: number): Promise<DatasetVersion> {
    const d = nameProblem(name) ? null : await this.deps.store.datasets.get(scope, name);
    if (!d) throw notFound('dataset');
    const v = await this.deps.store.datasets.version(scope, name, version ?? d.latestVersion);
    if (!v) throw notFound('dataset version');
    return v;
  }
}

function poolErrors(r: SharedTrainRequest): FieldError[] {
  const errors: FieldError[] = [];
  if (r.maxRowsPerTenant !== undefined && !isInt(r.maxRowsPerTenant, 10, 100_000_000))
    errors.push({ field: 'maxRowsPerTenant', message: 'must be an integer >= 10' });
  const names = (v: unknown): boolean =>
    Array.isArray(v) &&
    v.length > 0 &&
    v.length <= 10_000 &&
    v.every((x) => typeof x === 'string' && x.length > 0);
  if (r.features !== undefined && !names(r.features))
    errors.push({ field: 'features', message: 'must be a non-empty list of column names' });
  if (r.tenants !== undefined && !(names(r.tenants) && r.tenants.every(isTenantId)))
    errors.push({ field: 'tenants', message: 'must be a non-empty list of tenant ids' });
  const audience = r.publish === undefined ? null : audienceProblem(r.publish);
  if (audience) errors.push({ field: 'publish', message: audience });
  return errors;
}

function fieldError(code: 'validation_failed' | 'unprocessable', field: string, message: string): AppError {
  return new AppError(code, `${field}: ${message}`, { errors: [{ field, message }] });
}
