// Which model version answers a tenant's request for model `name` (the rule the inference plane and
// the advisor share): the tenant's own live version (tenant-specific or tuned) when it has one, else the
// shared model of that name when it is published to the tenant; anything else is 404, exactly like a
// missing model. A tainted version is served until a clean successor replaces it, unless the operator
// chose to block tainted versions at once.
import { notFound } from '../core/errors.ts';
import { nameProblem } from '../core/ids.ts';
import type { ModelMode } from '../core/jobs.ts';
import { SHARED_NAMESPACE, SYSTEM, sharedScope, type TenantScope } from '../core/scope.ts';
import type { ModelVersion, Store } from '../store/ports.ts';

export type TaintedServing = 'until-successor' | 'block';

export interface Resolved {
  /** Where the artifacts live: the tenant's own namespace, or SHARED_NAMESPACE. */
  namespace: string;
  model: string;
  version: number;
  mode: ModelMode;
  record: ModelVersion;
}

export interface RegistryDeps {
  store: Pick<Store, 'models'>;
  taintedServing: TaintedServing;
}

export class RegistryService {
  constructor(private readonly deps: RegistryDeps) {}

  /** The version `scope`'s tenant gets for `name`; `not_found` when nothing may serve it. */
  async resolve(scope: TenantScope, name: string): Promise<Resolved> {
    if (nameProblem(name)) throw notFound('model');
    const models = this.deps.store.models;
    const own = await this.live(scope, name, await models.get(scope, name));
    if (own) return own;
    const shared = sharedScope(SYSTEM);
    const summary = await models.get(shared, name);
    if (summary && publishedTo(summary.audience, scope.tenantId)) {
      const s = await this.live(shared, name, summary);
      if (s) return s;
    }
    throw notFound('model');
  }

  private async live(
    scope: TenantScope,
    name: string,
    summary: { liveVersion: number | null } | null,
  ): Promise<Resolved | null> {
    const models = this.deps.store.models;
    if (!summary || summary.liveVersion === null) return null;
    const record = await models.version(scope, name, summary.liveVersion);
    if (!record) return null;
    if (record.status === 'tainted' && this.deps.taintedServing === 'block') return null;
    return {
      namespace: scope.tenantId,
      model: name,
      version: record.version,
      mode: record.mode,
      record,
    };
  }
}

/** Whether a shared model's audience includes the tenant. */
export function publishedTo(audience: 'all' | string[] | null, tenantId: string): boolean {
  if (tenantId === SHARED_NAMESPACE) return true;
  return audience === 'all' || (Array.isArray(audience) && audience.includes(tenantId));
}
