import type { AuditList } from '../../api/schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export interface AuditListOptions extends CallOptions {
  limit?: number;
  /** Entries after this sequence number (paging). */
  after?: number;
  /** Operator only: one tenant's chain. */
  tenant?: string;
  /** Operator only: also verify the hash chain. */
  verify?: boolean;
}

/** The audit log: everything for the operator, its own entries for a tenant admin. */
export class AuditApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  list(opts: AuditListOptions = {}): Promise<AuditList> {
    const { limit, after, tenant, verify, ...call } = opts;
    return this.#t.request(ROUTES.listAudit, {
      ...call,
      query: { limit, after, tenant, verify: verify ? true : undefined },
    });
  }
}
