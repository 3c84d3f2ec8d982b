// The typed client for the tenantml HTTP API. Each resource group is a small class over one Transport,
// so a new group is added beside these without touching the request path.
import { AuditApi } from './resources/audit.ts';
import { BudgetApi } from './resources/budget.ts';
import { DatasetsApi } from './resources/datasets.ts';
import { V2Api } from './resources/inference.ts';
import { JobsApi } from './resources/jobs.ts';
import { KeysApi } from './resources/keys.ts';
import { ModelsApi } from './resources/models.ts';
import { ProvenanceApi } from './resources/provenance.ts';
import { QuotasApi } from './resources/quotas.ts';
import { SharedApi } from './resources/shared.ts';
import { TenantsApi } from './resources/tenants.ts';
import { UsageApi } from './resources/usage.ts';
import { WebhooksApi } from './resources/webhooks.ts';
import { ROUTES } from './routes.ts';
import { type CallOptions, type FetchLike, Transport } from './transport.ts';

export interface TenantmlClientOptions {
  /** e.g. `http://localhost:8080`; a path prefix is kept (`https://host/ml`). */
  baseUrl: string;
  /** The operator's key or a tenant key. Without one only health checks succeed. */
  apiKey?: string;
  /** Operator keys: the tenant that tenant routes (datasets, …) act on, sent as `X-Tenant-Id`. */
  tenantId?: string;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Per request; 0 waits forever. Default 30 s (uploads: at least 10 min). */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
}

export interface Health {
  status: string;
}

export class TenantmlClient {
  readonly tenants: TenantsApi;
  readonly keys: KeysApi;
  readonly datasets: DatasetsApi;
  readonly models: ModelsApi;
  readonly jobs: JobsApi;
  readonly audit: AuditApi;
  /** Shared models and their jobs (operator key). */
  readonly shared: SharedApi;
  readonly provenance: ProvenanceApi;
  /** Alert webhooks of the tenant (tenant admin key, or the operator with a tenant). */
  readonly webhooks: WebhooksApi;
  /** The Open Inference Protocol (KServe v2); rows-based predictions are `models.predict`. */
  readonly v2: V2Api;
  /** The tenant's monthly budget (tenant admin key, or the operator with a tenant). */
  readonly budget: BudgetApi;
  /** Quotas with their source and use (tenant), the tier table and tier edits (operator). */
  readonly quotas: QuotasApi;
  /** Metered usage and cost (tenant admin: its own; operator: every tenant, or one with withTenant). */
  readonly usage: UsageApi;
  /** The request core, for routes this version of the SDK does not wrap yet. */
  readonly transport: Transport;

  constructor(opts: TenantmlClientOptions | Transport) {
    this.transport = opts instanceof Transport ? opts : new Transport(opts);
    this.tenants = new TenantsApi(this.transport);
    this.keys = new KeysApi(this.transport);
    this.datasets = new DatasetsApi(this.transport);
    this.models = new ModelsApi(this.transport);
    this.jobs = new JobsApi(this.transport);
    this.audit = new AuditApi(this.transport);
    this.shared = new SharedApi(this.transport);
    this.provenance = new ProvenanceApi(this.transport);
    this.webhooks = new WebhooksApi(this.transport);
    this.v2 = new V2Api(this.transport);
    this.budget = new BudgetApi(this.transport);
    this.quotas = new QuotasApi(this.transport);
    this.usage = new UsageApi(this.transport);
  }

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  get tenantId(): string | undefined {
    return this.transport.tenantId;
  }

  /** A client with the same key acting on `tenantId` (operator keys). */
  withTenant(tenantId: string): TenantmlClient {
    return new TenantmlClient(this.transport.withTenant(tenantId));
  }

  /** Liveness: `{status: 'ok'}` while the process serves. */
  health(opts: CallOptions = {}): Promise<Health> {
    return this.transport.request(ROUTES.health, opts);
  }

  /** Readiness: throws a TenantmlError (503 `unavailable`) while the database is not reachable. */
  ready(opts: CallOptions = {}): Promise<Health> {
    return this.transport.request(ROUTES.ready, opts);
  }

  /** The server's Prometheus metrics in the text exposition format (operator key; docs/observability.md). */
  async metrics(opts: CallOptions = {}): Promise<string> {
    const bytes = await this.transport.request<Uint8Array>(ROUTES.metrics, { ...opts, response: 'bytes' });
    return new TextDecoder().decode(bytes);
  }
}
