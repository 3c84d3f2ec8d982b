// "Which models hold this tenant's data?" A tenant admin asks about itself (and sees the shared models it
// may use); the operator asks about any tenant by id.
import type { ProvenanceRecordView, TenantProvenanceView } from '../../api/schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

/** The operator's answer: every model version, shared or tuned, that holds data of `tenant`. */
export interface TenantDataHolders {
  tenant: string;
  versions: ProvenanceRecordView[];
}

/** Either answer of `GET /v1/provenance`; tell them apart with `isTenantProvenance`. */
export type ProvenanceAnswer = TenantDataHolders | TenantProvenanceView;

/** True for the tenant's own view (contributions, shared models in use), false for the operator's. */
export const isTenantProvenance = (p: ProvenanceAnswer): p is TenantProvenanceView => 'contributions' in p;

export class ProvenanceApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Operator key: `tenant` is required and the answer lists the versions holding its data. Tenant admin
   * key: leave `tenant` out; the answer is the tenant's own view (a `tenant` given is ignored).
   */
  get(tenant?: string, opts: CallOptions = {}): Promise<ProvenanceAnswer> {
    return this.#t.request(ROUTES.provenance, { ...opts, query: { tenant } });
  }
}
