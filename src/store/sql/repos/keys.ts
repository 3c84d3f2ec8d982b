// API key records. Lookup for authentication happens before any tenant is known, so it is a system path;
// everything else runs in the key's tenant scope.
import { AppError } from '../../../core/errors.ts';
import type { KeyRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import { toKey } from './rows.ts';

/** Last use is recorded at most this often per key: it is a hint, and every request would write it. */
const TOUCH_INTERVAL_MS = 60_000;
const TOUCH_MEMORY = 10_000;

export function keyRepo(ctx: SqlContext): KeyRepo {
  // In-process memory of recent touches, so that most requests skip the database entirely.
  const touched = new Map<string, number>();

  return {
    create: (scope, rec) =>
      ctx.scoped(scope, async (trx) => {
        if (rec.tenantId !== scope.tenantId)
          throw new AppError('forbidden', 'the key belongs to another tenant than the scope');
        const inserted = await trx
          .insertInto('api_keys')
          .values({
            id: rec.id,
            tenant_id: scope.tenantId,
            role: rec.role,
            hash: rec.hash,
            created_at: rec.createdAt,
            created_by: rec.createdBy,
            revoked_at: rec.revokedAt,
            last_used_at: rec.lastUsedAt,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) throw new AppError('conflict', `key ${rec.id} already exists`);
      }),

    findForAuth: (keyId) =>
      ctx.system(async (trx) => {
        const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
        return row ? toKey(row) : null;
      }),

    list: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('api_keys')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toKey);
      }),

    revoke: (scope, keyId, at) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('api_keys')
          .select(['id', 'revoked_at'])
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', keyId)
          .executeTakeFirst();
        if (!row) return false;
        if (row.revoked_at === null)
          await trx
            .updateTable('api_keys')
            .set({ revoked_at: at })
            .where('tenant_id', '=', scope.tenantId)
            .where('id', '=', keyId)
            .execute();
        return true;
      }),

    touch: async (keyId, at) => {
      const atMs = Date.parse(at);
      const last = touched.get(keyId);
      if (last !== undefined && atMs - last < TOUCH_INTERVAL_MS) return;
      if (touched.size >= TOUCH_MEMORY) touched.clear();
      touched.set(keyId, atMs);
      const stale = new Date(atMs - TOUCH_INTERVAL_MS).toISOString();
      try {
        await ctx.system((trx) =>
          trx
            .updateTable('api_keys')
            .set({ last_used_at: at })
            .where('id', '=', keyId)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', stale)]))
            .execute(),
        );
      } catch {
        touched.delete(keyId); // best effort: a failed touch never fails the request
      }
    },
  };
}
