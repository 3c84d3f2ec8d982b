// Opens the metadata store named by a URL: SQLite (a file path, `sqlite:` URL or `:memory:`) or
// PostgreSQL (`postgres://…`). Both run the same repositories over Kysely; the adapters differ only in
// the SqlContext they hand those repositories.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sql } from 'kysely';
import type { Store } from '../ports.ts';
import type { SqlContext } from './context.ts';
import { adviceRepo } from './repos/advice.ts';
import { auditRepo } from './repos/audit.ts';
import { budgetRepo } from './repos/budgets.ts';
import { datasetRepo } from './repos/datasets.ts';
import { jobRepo } from './repos/jobs.ts';
import { keyRepo } from './repos/keys.ts';
import { modelRepo } from './repos/models.ts';
import { monitorRepo } from './repos/monitor.ts';
import { policyRepo } from './repos/policies.ts';
import { tenantRepo } from './repos/tenants.ts';
import { tierQuotaRepo } from './repos/tier-quotas.ts';
import { usageRepo } from './repos/usage.ts';
import { webhookRepo } from './repos/webhooks.ts';
import { openSqlite } from './sqlite.ts';

export interface OpenStoreOptions {
  /** A SQLite file path, `sqlite:<path>`, `sqlite::memory:` / `:memory:`, or a `postgres://` URL. */
  url: string;
  /** PostgreSQL only: the owner's URL, for migrations; `url` is then the application's own login role. */
  adminUrl?: string;
  /** PostgreSQL only: connections in the pool (default 10). */
  poolSize?: number;
}

export type StoreTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** Reads a store URL. A `sqlite:` URL takes the rest as a path (`sqlite:///abs`, `sqlite:rel`). */
export function parseStoreUrl(url: string): StoreTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (url === ':memory:' || url === 'sqlite::memory:' || url === 'sqlite://:memory:')
    return { kind: 'sqlite', path: ':memory:' };
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw new Error('tenantml: the sqlite: URL names no file');
    return { kind: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new Error(`tenantml: unsupported store URL scheme in ${url.split(':')[0]}:`);
  return { kind: 'sqlite', path: url };
}

function storeOf(ctx: SqlContext, close: () => Promise<void>): Store {
  let closed: Promise<void> | null = null;
  return {
    dialect: ctx.dialect,
    capabilities: ctx.capabilities,
    tenants: tenantRepo(ctx),
    keys: keyRepo(ctx),
    datasets: datasetRepo(ctx),
    audit: auditRepo(ctx),
    jobs: jobRepo(ctx),
    models: modelRepo(ctx),
    advice: adviceRepo(ctx),
    monitor: monitorRepo(ctx),
    policies: policyRepo(ctx),
    webhooks: webhookRepo(ctx),
    usage: usageRepo(ctx),
    budgets: budgetRepo(ctx),
    tierQuotas: tierQuotaRepo(ctx),
    ping: async () => {
      try {
        await sql`select 1`.execute(ctx.db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}

/** Opens the store and brings its schema up to date. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const target = parseStoreUrl(opts.url);
  if (target.kind === 'postgres') {
    if (opts.adminUrl !== undefined && parseStoreUrl(opts.adminUrl).kind !== 'postgres')
      throw new Error('tenantml: adminUrl must be a postgres:// URL like url');
    // Imported here, not at the top: a SQLite deployment never loads pg (~15 MB of resident memory).
    const { openPostgres } = await import('./postgres.ts');
    const h = await openPostgres({ url: target.url, adminUrl: opts.adminUrl, poolSize: opts.poolSize });
    return storeOf(h.ctx, h.close);
  }
  if (target.path !== ':memory:') mkdirSync(dirname(resolve(target.path)), { recursive: true });
  const h = await openSqlite(target.path);
  return storeOf(h.ctx, h.close);
}
