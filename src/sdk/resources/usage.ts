// Metered usage and its cost (GET /v1/usage, docs/metering.md). A tenant admin key reads its own tenant;
// the operator reads every tenant, or one tenant with `withTenant(id)` (X-Tenant-Id).
import type { UsageQueryParams, UsageReportBody } from '../../api/usage-schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

/** `from`/`to`: ISO dates or zoned date-times, [from, to); default the current month. Granularity default `day`. */
export type UsageQuery = Omit<UsageQueryParams, 'granularity'> & { granularity?: 'hour' | 'day' | 'month' };

export type UsageReport = UsageReportBody;

export class UsageApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Usage and cost per tenant and period over the range. */
  get(query: UsageQuery = {}, opts: CallOptions = {}): Promise<UsageReport> {
    const { from, to, granularity } = query;
    return this.#t.request(ROUTES.usage, { ...opts, query: { from, to, granularity } });
  }
}
