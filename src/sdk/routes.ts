// Every HTTP route the SDK calls, declared once. Requests are built from this table, and a test checks
// each entry against the server's /openapi.json, so the SDK and the server cannot silently disagree.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who a route acts for. `tenant` routes act on one tenant: a tenant key's own, or the one an operator
 * names with `X-Tenant-Id`. `operator` and `public` routes never carry that header.
 */
export type RouteScope = 'operator' | 'tenant' | 'public';

export interface Route<P extends string = string> {
  readonly method: HttpMethod;
  /** OpenAPI-style template: `/v1/tenants/{id}`. */
  readonly path: P;
  readonly scope: RouteScope;
}

const route = <P extends string>(method: HttpMethod, path: P, scope: RouteScope): Route<P> => ({
  method,
  path,
  scope,
});

export const ROUTES = {
  createTenant: route('POST', '/v1/tenants', 'operator'),
  listTenants: route('GET', '/v1/tenants', 'operator'),
  getTenant: route('GET', '/v1/tenants/{id}', 'operator'),
  updateTenant: route('PATCH', '/v1/tenants/{id}', 'operator'),
  deleteTenant: route('DELETE', '/v1/tenants/{id}', 'operator'),

  createKey: route('POST', '/v1/tenants/{id}/keys', 'operator'),
  listKeys: route('GET', '/v1/tenants/{id}/keys', 'operator'),
  revokeKey: route('DELETE', '/v1/tenants/{id}/keys/{keyId}', 'operator'),

  uploadDataset: route('POST', '/v1/datasets/{name}', 'tenant'),
  listDatasets: route('GET', '/v1/datasets', 'tenant'),
  getDataset: route('GET', '/v1/datasets/{name}', 'tenant'),
  deleteDataset: route('DELETE', '/v1/datasets/{name}', 'tenant'),

  trainModel: route('POST', '/v1/models/{name}/train', 'tenant'),
  listModels: route('GET', '/v1/models', 'tenant'),
  getModel: route('GET', '/v1/models/{name}', 'tenant'),
  promoteModel: route('POST', '/v1/models/{name}/versions/{v}/promote', 'tenant'),
  rollbackModel: route('POST', '/v1/models/{name}/rollback', 'tenant'),
  adviseModel: route('POST', '/v1/models/{name}/advise', 'tenant'),
  listAdvice: route('GET', '/v1/models/{name}/advice', 'tenant'),

  // Any key of the tenant (admin or predict); the model resolves to the tenant's own live version, else
  // a shared model published to it.
  predict: route('POST', '/v1/models/{name}/predict', 'tenant'),
  // The Open Inference Protocol (KServe v2) over the same resolution.
  inferV2: route('POST', '/v2/models/{name}/infer', 'tenant'),
  modelMetadataV2: route('GET', '/v2/models/{name}', 'tenant'),
  liveV2: route('GET', '/v2/health/live', 'public'),
  readyV2: route('GET', '/v2/health/ready', 'public'),

  // Monitoring of a tenant model. Feedback takes any key of the tenant (the application that predicts
  // usually learns the outcome); the windows and the retraining policy need an admin key.
  sendFeedback: route('POST', '/v1/models/{name}/feedback', 'tenant'),
  getMonitoring: route('GET', '/v1/models/{name}/monitoring', 'tenant'),
  getPolicy: route('GET', '/v1/models/{name}/policy', 'tenant'),
  putPolicy: route('PUT', '/v1/models/{name}/policy', 'tenant'),
  deletePolicy: route('DELETE', '/v1/models/{name}/policy', 'tenant'),

  // A tenant's alert webhooks (tenant admin, or the operator naming the tenant).
  createWebhook: route('POST', '/v1/webhooks', 'tenant'),
  listWebhooks: route('GET', '/v1/webhooks', 'tenant'),
  getWebhook: route('GET', '/v1/webhooks/{id}', 'tenant'),
  deleteWebhook: route('DELETE', '/v1/webhooks/{id}', 'tenant'),
  listWebhookDeliveries: route('GET', '/v1/webhooks/{id}/deliveries', 'tenant'),
  testWebhook: route('POST', '/v1/webhooks/{id}/test', 'tenant'),

  // The tenant's monthly budget (tenant admin, or the operator naming the tenant; only the operator overrides).
  getBudget: route('GET', '/v1/budget', 'tenant'),
  putBudget: route('PUT', '/v1/budget', 'tenant'),
  deleteBudget: route('DELETE', '/v1/budget', 'tenant'),
  // Quotas: a tenant's view (or the operator's tier table when no tenant is named); tier edits (operator).
  getQuotas: route('GET', '/v1/quotas', 'tenant'),
  setTierQuotas: route('PUT', '/v1/quotas/tiers/{tier}', 'operator'),

  listJobs: route('GET', '/v1/jobs', 'tenant'),
  getJob: route('GET', '/v1/jobs/{id}', 'tenant'),
  cancelJob: route('POST', '/v1/jobs/{id}/cancel', 'tenant'),
  // Server-sent events (text/event-stream), read with Transport.stream.
  jobEvents: route('GET', '/v1/jobs/{id}/events', 'tenant'),

  // Shared models live in the platform's own namespace: operator routes, never a tenant header.
  trainShared: route('POST', '/v1/shared/models/{name}/train', 'operator'),
  importShared: route('POST', '/v1/shared/models/{name}/import', 'operator'),
  listShared: route('GET', '/v1/shared/models', 'operator'),
  getShared: route('GET', '/v1/shared/models/{name}', 'operator'),
  publishShared: route('PUT', '/v1/shared/models/{name}/audience', 'operator'),
  sharedProvenance: route('GET', '/v1/shared/models/{name}/versions/{v}/provenance', 'operator'),
  // Binary (application/octet-stream), read with `response: 'bytes'`.
  downloadShared: route('GET', '/v1/shared/models/{name}/versions/{v}/model.onnx', 'operator'),
  listSharedJobs: route('GET', '/v1/shared/jobs', 'operator'),
  getSharedJob: route('GET', '/v1/shared/jobs/{id}', 'operator'),

  // A tenant admin gets its own view; the operator names the tenant with `?tenant=`, like the audit log.
  provenance: route('GET', '/v1/provenance', 'operator'),

  // The operator narrows the audit log with `?tenant=`, not with the header.
  listAudit: route('GET', '/v1/audit', 'operator'),

  // A tenant admin reads its own usage; the operator every tenant's, or one named with X-Tenant-Id.
  usage: route('GET', '/v1/usage', 'tenant'),

  health: route('GET', '/healthz', 'public'),
  ready: route('GET', '/readyz', 'public'),
  // Prometheus text (docs/observability.md).
  metrics: route('GET', '/metrics', 'operator'),
} as const satisfies Record<string, Route>;

/** The `{param}` names of a path template, as a union of string literals. */
export type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | PathParamNames<Rest>
  : never;

export type PathParams<P extends string> = { [K in PathParamNames<P>]: string };

/** Fills a path template; every value is percent-encoded so a name can never add a path segment. */
export function fillPath<P extends string>(template: P, params: PathParams<P>): string {
  const values = params as Record<string, string>;
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`missing path parameter "${name}" for ${template}`);
    }
    return encodeURIComponent(value);
  });
}
