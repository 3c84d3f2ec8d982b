import type { TenantCreate, TenantDetailView, TenantPatchBody, TenantView } from '../../api/schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

/** Tenant administration; operator key only. */
export class TenantsApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  create(body: TenantCreate, opts: CallOptions = {}): Promise<TenantView> {
    return this.#t.request(ROUTES.createTenant, { ...opts, json: body });
  }

  async list(opts: CallOptions = {}): Promise<TenantView[]> {
    const res = await this.#t.request<{ tenants: TenantView[] }>(ROUTES.listTenants, opts);
    return res.tenants;
  }

  get(id: string, opts: CallOptions = {}): Promise<TenantDetailView> {
    return this.#t.request(ROUTES.getTenant, { ...opts, params: { id } });
  }

  update(id: string, patch: TenantPatchBody, opts: CallOptions = {}): Promise<TenantView> {
    return this.#t.request(ROUTES.updateTenant, { ...opts, params: { id }, json: patch });
  }

  /** Deletes the tenant and crypto-shreds its data: its data key is destroyed. */
  async delete(id: string, opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.deleteTenant, { ...opts, params: { id }, response: 'none' });
  }
}
