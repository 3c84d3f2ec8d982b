// In-memory JobRepo and ModelRepo, ONLY for the unit tests of the supervisor loop. The real repositories
// (src/store/sql/repos/) are what the integration tests in test/integration/jobs/ run against.

import type { Job, JobFilter, JobProgress, ModelRef } from '../../../src/core/jobs.ts';
import { nextState } from '../../../src/core/jobs.ts';
import type { TenantScope } from '../../../src/core/scope.ts';
import type {
  ClaimRequest,
  JobOutcome,
  JobRepo,
  ModelLiveChange,
  ModelRepo,
  ModelSummary,
  ModelVersion,
  NewJob,
  NewModelVersion,
  ProvenanceRecord,
} from '../../../src/store/ports.ts';

export class MemoryJobs implements JobRepo {
  readonly jobs = new Map<string, Job>();
  claims = 0;
  private seq = 0;
  private readonly order = new Map<string, number>();

  async enqueue(scope: TenantScope, j: NewJob): Promise<Job> {
    const job: Job = {
      id: j.id,
      tenantId: scope.tenantId,
      kind: j.kind,
      state: 'queued',
      priority: j.priority,
      spec: j.spec,
      attempts: 0,
      maxAttempts: j.maxAttempts,
      leaseOwner: null,
      leaseExpiresAt: null,
      cancelRequested: false,
      progress: null,
      limits: j.limits,
      cpuSeconds: 0,
      wallSeconds: 0,
      error: null,
      result: null,
      createdAt: j.createdAt,
      createdBy: j.createdBy,
      startedAt: null,
      finishedAt: null,
    };
    this.jobs.set(job.id, job);
    this.order.set(job.id, this.seq++);
    return structuredClone(job);
  }

  async get(scope: TenantScope, id: string): Promise<Job | null> {
    const j = this.jobs.get(id);
    return j && j.tenantId === scope.tenantId ? structuredClone(j) : null;
  }

  async list(scope: TenantScope, filter: JobFilter = {}): Promise<Job[]> {
    return [...this.jobs.values()]
      .filter((j) => j.tenantId === scope.tenantId && (!filter.state || j.state === filter.state))
      .map((j) => structuredClone(j));
  }

  async requestCancel(scope: TenantScope, id: string, at: string): Promise<Job | null> {
    const j = this.jobs.get(id);
    if (!j || j.tenantId !== scope.tenantId) return null;
    if (j.state === 'queued') {
      j.state = 'cancelled';
      j.finishedAt = at;
    } else if (j.state === 'running') j.cancelRequested = true;
    return structuredClone(j);
  }

  async claim(req: ClaimRequest): Promise<Job | null> {
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= req.globalCap) return null;
    const next = [...this.jobs.values()]
      .filter((j) => j.state === 'queued')
      .sort(
        (a, b) => b.priority - a.priority || (this.order.get(a.id) ?? 0) - (this.order.get(b.id) ?? 0),
      )[0];
    if (!next) return null;
    this.claims++;
    next.state = 'running';
    next.attempts++;
    next.leaseOwner = req.workerId;
    next.leaseExpiresAt = new Date(new Date(req.now).getTime() + req.leaseMs).toISOString();
    next.startedAt ??= req.now;
    return structuredClone(next);
  }

  async heartbeat(
    jobId: string,
    workerId: string,
    leaseExpiresAt: string,
    progress: JobProgress | null,
  ): Promise<{ ok: boolean; cancelRequested: boolean }> {
    const j = this.jobs.get(jobId);
    if (j?.state !== 'running' || j.leaseOwner !== workerId) return { ok: false, cancelRequested: false };
    j.leaseExpiresAt = leaseExpiresAt;
    if (progress) j.progress = progress;
    return { ok: true, cancelRequested: j.cancelRequested };
  }

  async finish(jobId: string, workerId: string, o: JobOutcome): Promise<Job | null> {
    const j = this.jobs.get(jobId);
    if (j?.state !== 'running' || j.leaseOwner !== workerId) return null;
    const event = {
      succeeded: 'succeed',
      failed: 'fail',
      cancelled: 'cancel',
      timed_out: 'timeout',
    } as const;
    j.state =
      nextState('running', event[o.state], o.retry === false ? 0 : j.maxAttempts - j.attempts) ?? 'failed';
    j.cpuSeconds += o.cpuSeconds;
    j.wallSeconds += o.wallSeconds;
    j.error = o.error ?? null;
    j.result = o.result ?? null;
    j.leaseOwner = null;
    j.leaseExpiresAt = null;
    if (j.state !== 'queued') j.finishedAt = o.at;
    return structuredClone(j);
  }

  async getById(jobId: string): Promise<Job | null> {
    const j = this.jobs.get(jobId);
    return j ? structuredClone(j) : null;
  }

  async requeueExpired(now: string): Promise<{ requeued: string[]; failed: string[]; cancelled: string[] }> {
    const out = { requeued: [] as string[], failed: [] as string[], cancelled: [] as string[] };
    for (const j of this.jobs.values()) {
      if (j.state !== 'running' || !j.leaseExpiresAt || j.leaseExpiresAt >= now) continue;
      j.state = nextState('running', 'lease_expired', j.maxAttempts - j.attempts) ?? 'failed';
      j.leaseOwner = null;
      j.leaseExpiresAt = null;
      (j.state === 'queued' ? out.requeued : out.failed).push(j.id);
    }
    return out;
  }

  async counts(): Promise<{ tenantId: string; queued: number; running: number }[]> {
    return [];
  }

  async countOf(scope: TenantScope): Promise<{ queued: number; running: number }> {
    const own = [...this.jobs.values()].filter((j) => j.tenantId === scope.tenantId);
    return {
      queued: own.filter((j) => j.state === 'queued').length,
      running: own.filter((j) => j.state === 'running').length,
    };
  }

  /** Test helper: takes the lease away, as if another worker had it now. */
  steal(jobId: string): void {
    const j = this.jobs.get(jobId);
    if (j) j.leaseOwner = 'someone-else';
  }
}

export class MemoryModels implements ModelRepo {
  readonly versionsList: ModelVersion[] = [];
  registerCalls = 0;

  async register(scope: TenantScope, v: NewModelVersion): Promise<ModelVersion> {
    this.registerCalls++;
    const existing = this.versionsList.find((m) => m.jobId !== null && m.jobId === v.jobId);
    if (existing) return existing;
    const version =
      this.versionsList.filter((m) => m.tenantId === scope.tenantId && m.model === v.model).length + 1;
    const { taint, ...rest } = v;
    const mv: ModelVersion = {
      ...rest,
      tenantId: scope.tenantId,
      version,
      status: taint ? 'tainted' : 'ok',
      taint: taint ?? null,
    };
    this.versionsList.push(mv);
    return mv;
  }
  async list(): Promise<ModelSummary[]> {
    return [];
  }
  async get(): Promise<ModelSummary | null> {
    return null;
  }
  async versions(scope: TenantScope, name: string): Promise<ModelVersion[]> {
    return this.versionsList.filter((m) => m.tenantId === scope.tenantId && m.model === name);
  }
  async version(scope: TenantScope, name: string, version: number): Promise<ModelVersion | null> {
    return (
      this.versionsList.find(
        (m) => m.tenantId === scope.tenantId && m.model === name && m.version === version,
      ) ?? null
    );
  }
  // The job tests never move a live version; the store conformance suite covers these.
  async promote(): Promise<ModelSummary> {
    throw new Error('MemoryModels.promote is not used by the job tests');
  }
  async rollback(): Promise<ModelSummary> {
    throw new Error('MemoryModels.rollback is not used by the job tests');
  }
  async liveHistory(): Promise<ModelLiveChange[]> {
    return [];
  }
  async setAudience(): Promise<ModelSummary> {
    throw new Error('MemoryModels.setAudience is not used by the job unit tests');
  }
  async provenance(): Promise<ProvenanceRecord[]> {
    return [];
  }
  async holdingDataOf(): Promise<ProvenanceRecord[]> {
    return [];
  }
  async taint(
    versions: (ModelRef & { tenantId: string })[],
    reason: string,
    at: string,
  ): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    for (const r of versions) {
      const m = this.versionsList.find(
        (x) => x.tenantId === r.tenantId && x.model === r.model && x.version === r.version,
      );
      if (m && m.status === 'ok') {
        m.status = 'tainted';
        m.taint = { at, reason };
        out.push(m);
      }
    }
    return out;
  }
  async tunedOn(): Promise<ModelVersion[]> {
    return [];
  }
}
