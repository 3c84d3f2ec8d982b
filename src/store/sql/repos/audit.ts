// Audit entries as hash chains: one per tenant and one for the operator. An append bumps the chain's head
// row with UPDATE … RETURNING, which locks it until commit, so concurrent appends to one chain take
// consecutive seqs and each links to the hash the previous one wrote.
import { GENESIS_HASH, hashEntry } from '../../../core/audit-chain.ts';
import type { AuditEntry } from '../../../core/types.ts';
import type { AuditQuery, AuditRepo } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import { OPERATOR_CHAIN } from '../schema.ts';
import { num, toAuditEntry } from './rows.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const chainOf = (tenantId: string | null): string => tenantId ?? OPERATOR_CHAIN;
const limitOf = (q: AuditQuery): number => Math.max(1, Math.min(q.limit ?? DEFAULT_LIMIT, MAX_LIMIT));

function page(trx: Db, q: AuditQuery) {
  let query = trx.selectFrom('audit_entries').selectAll();
  if (q.after !== undefined) query = query.where('seq', '>', q.after);
  return query.limit(limitOf(q));
}

export function auditRepo(ctx: SqlContext): AuditRepo {
  return {
    append: (e) =>
      ctx.system(async (trx) => {
        const chain = chainOf(e.tenantId);
        await trx
          .insertInto('audit_heads')
          .values({ chain, tenant_id: e.tenantId, seq: 0, hash: GENESIS_HASH })
          .onConflict((oc) => oc.column('chain').doNothing())
          .execute();
        const head = await trx
          .updateTable('audit_heads')
          .set((eb) => ({ seq: eb('seq', '+', 1) }))
          .where('chain', '=', chain)
          .returning(['seq', 'hash'])
          .executeTakeFirstOrThrow();
        const seq = num(head.seq);
        const prevHash = head.hash;
        const fields = { ...e, seq };
        const entry: AuditEntry = { ...fields, prevHash, hash: hashEntry(prevHash, fields) };
        await trx
          .insertInto('audit_entries')
          .values({
            chain,
            seq,
            tenant_id: e.tenantId,
            actor_key_id: e.actorKeyId,
            actor_role: e.actorRole,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            request_id: e.requestId,
            at: e.at,
            prev_hash: prevHash,
            hash: entry.hash,
          })
          .execute();
        await trx.updateTable('audit_heads').set({ hash: entry.hash }).where('chain', '=', chain).execute();
        return entry;
      }),

    list: (scope, q = {}) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await page(trx, q)
          .where('chain', '=', scope.tenantId)
          .where('tenant_id', '=', scope.tenantId)
          .orderBy('seq')
          .execute();
        return rows.map(toAuditEntry);
      }),

    // Across chains, entries come in time order and `after` still compares seq, which is only meaningful
    // within one chain: page a single chain (tenantId given) when paging matters.
    listAll: (q = {}) =>
      ctx.system(async (trx) => {
        let query = page(trx, q);
        query =
          q.tenantId === undefined
            ? query.orderBy('at').orderBy('chain').orderBy('seq')
            : query.where('chain', '=', chainOf(q.tenantId)).orderBy('seq');
        return (await query.execute()).map(toAuditEntry);
      }),

    chain: (tenantId) =>
      ctx.system(async (trx) => {
        const rows = await trx
          .selectFrom('audit_entries')
          .selectAll()
          .where('chain', '=', chainOf(tenantId))
          .orderBy('seq')
          .execute();
        return rows.map(toAuditEntry);
      }),

    head: (tenantId) =>
      ctx.system(async (trx) => {
        const row = await trx
          .selectFrom('audit_heads')
          .select(['seq', 'hash'])
          .where('chain', '=', chainOf(tenantId))
          .executeTakeFirst();
        return row ? { seq: num(row.seq), hash: row.hash } : null;
      }),

    deleteChain: (tenantId) =>
      ctx.system(async (trx) => {
        await trx.deleteFrom('audit_entries').where('chain', '=', tenantId).execute();
        await trx.deleteFrom('audit_heads').where('chain', '=', tenantId).execute();
      }),
  };
}
