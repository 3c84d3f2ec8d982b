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

  listJobs: route('GET', '/v1/jobs', 'tenant'),
  getJob: route('GET', '/v1/jobs/{id}', 'tenant'),
  cancelJob: route('POST', '/v1/jobs/{id}/cancel', 'tenant'),
  // Server-sent events (text/event-stream), read with Transport.stream.
  jobEvents: route('GET', '/v1/jobs/{id}/events', 'tenant'),

  // The operator narrows the audit log with `?tenant=`, not with the header.
  listAudit: route('GET', '/v1/audit', 'operator'),

  health: route('GET', '/healthz', 'public'),
  ready: route('GET', '/readyz', 'public'),
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
