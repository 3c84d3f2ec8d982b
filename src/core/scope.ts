// A TenantScope is the proof that a caller may act on one tenant. Every tenant-owned read or write takes
// one. Only the auth layer (and the operator/system paths that act on a named tenant) mint them; a test
// checks that no other module calls `mintTenantScope`.
import type { Role } from './types.ts';

declare const scopeBrand: unique symbol;

export interface Actor {
  /** Key id, `operator` for the operator's key, or `system` for the platform itself. */
  keyId: string;
  role: 'operator' | Role | 'system';
}

export interface TenantScope {
  readonly tenantId: string;
  readonly actor: Actor;
  readonly [scopeBrand]: true;
}

export function mintTenantScope(tenantId: string, actor: Actor): TenantScope {
  return Object.freeze({ tenantId, actor: Object.freeze({ ...actor }) }) as TenantScope;
}

export const OPERATOR: Actor = Object.freeze({ keyId: 'operator', role: 'operator' });
export const SYSTEM: Actor = Object.freeze({ keyId: 'system', role: 'system' });

/**
 * The platform's own namespace, where shared models live. `_shared` can never be a tenant id (ids start
 * with a letter or digit), so no key, route or tenant can address it; every tenant-owned mechanism —
 * row-level security, its own data key, its audit chain, the job table — applies to it unchanged.
 */
export const SHARED_NAMESPACE = '_shared';

/** The scope of the shared namespace: for the operator's shared-model routes and the platform itself. */
export function sharedScope(actor: Actor): TenantScope {
  return mintTenantScope(SHARED_NAMESPACE, actor);
}
