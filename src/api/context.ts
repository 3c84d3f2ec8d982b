// What the API layer needs from the rest of the platform, and what it adds to each request.
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { TenantScope } from '../core/scope.ts';
import type { InferenceMetrics } from '../runtime/metrics.ts';
import type { AdvisorService } from '../services/advisor.ts';
import type { AuditService } from '../services/audit.ts';
import type { AuthService, Principal } from '../services/auth.ts';
import type { DatasetService } from '../services/datasets/service.ts';
import type { InferenceService } from '../services/inference/service.ts';
import type { BudgetService } from '../services/metering/budgets.ts';
import type { UsageService } from '../services/metering/usage.ts';
import type { ProvenanceService } from '../services/provenance.ts';
import type { QuotaService } from '../services/quotas.ts';
import type { SharedModelsService } from '../services/shared-models.ts';
import type { TenantService } from '../services/tenants.ts';
import type { TrainingService } from '../services/training.ts';
import type { WebhookService } from '../services/webhooks/service.ts';
import type { Store } from '../store/ports.ts';

export interface ApiDeps {
  config: Pick<Config, 'maxUploadBytes' | 'maxJsonBytes' | 'logLevel' | 'monitorGranularity'>;
  store: Pick<Store, 'ping' | 'models' | 'monitor' | 'policies'>;
  auth: AuthService;
  tenants: TenantService;
  datasets: DatasetService;
  audit: AuditService;
  training: TrainingService;
  /** The inference plane: predict, model cache, prediction log. */
  inference: InferenceService;
  /** Prometheus metrics served on GET /metrics. */
  metrics: InferenceMetrics;
  /** Shared models (operator): import, publish, list, download. */
  sharedModels: SharedModelsService;
  /** Which model versions hold a tenant's data. */
  provenance: ProvenanceService;
  /** Compares tenant-specific, shared and tuned candidates for a tenant. */
  advisor: AdvisorService;
  /** Alert webhooks: subscriptions, deliveries, test deliveries. */
  webhooks: WebhookService;
  /** The platform's clock: every time a route records comes from it. */
  clock: Clock;
  /** Budgets: GET|PUT|DELETE /v1/budget (served when present). */
  budgets?: BudgetService;
  /** Quotas in one place: GET /v1/quotas, PUT /v1/quotas/tiers/{tier} (served when present). */
  quotaService?: QuotaService;
  /** Metered usage and cost: GET /v1/usage (served when present). */
  usage?: UsageService;
}

/**
 * Who may call a route. `operator`: the operator's key only. `tenant`: any tenant key (or the operator
 * naming a tenant in X-Tenant-Id). `tenantAdmin`: as `tenant`, but a `predict` key is refused.
 * `admin`: the operator (all tenants) or a tenant admin (its own). `public`: no key.
 */
export type AuthRule = 'public' | 'operator' | 'tenant' | 'tenantAdmin' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRule;
    /** Audit action recorded for this route (mutating routes). */
    audit?: string;
  }
  interface FastifyRequest {
    principal?: Principal;
    scope?: TenantScope;
    /** Set by a handler when the audit entry belongs to a tenant's chain the scope does not name. */
    auditTenant?: string;
    auditTarget?: string;
  }
}
