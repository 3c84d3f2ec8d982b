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
