// Webhooks and their delivery queue. A tenant's webhooks hold an encrypted signing secret that is read
// only on its own (never listed); deliveries are claimed by any number of dispatchers with a lease (the due
// time pushed forward), so a delivery is sent by one worker at a time and retried if that worker dies.
// Deleting a webhook deletes all its deliveries (foreign-key cascade), delivered and failed ones included.
import type { Selectable } from 'kysely';
import type { AlertEvent, AlertPayload } from '../../../core/monitoring.ts';
import type { Webhook, WebhookDelivery, WebhookRepo } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../schema.ts';
import { num } from './rows.ts';

type WebhookRow = Omit<Selectable<WebhooksTable>, 'secret'>;

const WEBHOOK_COLUMNS = ['tenant_id', 'id', 'url', 'events', 'created_at', 'created_by'] as const;

function toWebhook(r: WebhookRow): Webhook {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    events: JSON.parse(r.events) as AlertEvent[],
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

function toDelivery(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    webhookId: r.webhook_id,
    event: r.event as AlertEvent,
    payload: JSON.parse(r.payload) as AlertPayload,
    state: r.state as WebhookDelivery['state'],
    attempts: num(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status == null ? null : num(r.last_status),
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

// seq is Generated<…> over a column type, which Selectable does not unwrap.
const seqOf = (r: Selectable<WebhookDeliveriesTable>): number => num(r.seq as unknown as number | string);

const bySeq = (a: Selectable<WebhookDeliveriesTable>, b: Selectable<WebhookDeliveriesTable>): number =>
  a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : seqOf(a) - seqOf(b);

export function webhookRepo(ctx: SqlContext): WebhookRepo {
  // Row locks exist where several processes write; SQLite's one writer already runs claims one at a time.
  const rowLocks = !ctx.capabilities.singleWriter;

  return {
    create: (scope, w, secret) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .insertInto('webhooks')
          .values({
            tenant_id: scope.tenantId,
            id: w.id,
            url: w.url,
            events: JSON.stringify(w.events),
            secret,
            created_at: w.createdAt,
            created_by: w.createdBy,
          })
          .returning(WEBHOOK_COLUMNS)
          .executeTakeFirstOrThrow();
        return toWebhook(row);
      }),

    list: (scope) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('webhooks')
          .select(WEBHOOK_COLUMNS)
          .where('tenant_id', '=', scope.tenantId)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        return rows.map(toWebhook);
      }),

    get: (scope, id) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('webhooks')
          .select(WEBHOOK_COLUMNS)
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? toWebhook(row) : null;
      }),

    secret: (scope, id) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('webhooks')
          .select('secret')
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        return row ? Buffer.from(row.secret) : null;
      }),

    delete: (scope, id) =>
      ctx.scoped(scope, async (trx) => {
        const r = await trx
          .deleteFrom('webhooks')
          .where('tenant_id', '=', scope.tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }),

    enqueue: (scope, deliveries) =>
      ctx.scoped(scope, async (trx) => {
        if (deliveries.length === 0) return;
        // The (tenant_id, webhook_id) foreign key refuses a delivery for another tenant's or a deleted webhook.
        await trx
          .insertInto('webhook_deliveries')
          .values(
            deliveries.map((d) => ({
              id: d.id,
              tenant_id: scope.tenantId,
              webhook_id: d.webhookId,
              event: d.event,
              payload: JSON.stringify(d.payload),
              state: 'pending',
              attempts: d.attempts,
              next_attempt_at: d.nextAttemptAt,
              last_status: d.lastStatus,
              last_error: d.lastError,
              created_at: d.createdAt,
              delivered_at: null,
            })),
          )
          .execute();
      }),

    claimDue: (now, leaseUntil, limit) =>
      ctx.system(async (trx) => {
        let pick = trx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('state', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .orderBy('created_at')
          .orderBy('seq')
          .limit(limit);
        // Concurrent claimers each skip the rows another holds, so two never take the same delivery.
        if (rowLocks) pick = pick.forUpdate().skipLocked();
        const ids = (await pick.execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        const rows = await trx
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: leaseUntil })
          .where('id', 'in', ids)
          .where('state', '=', 'pending')
          .returningAll()
          .execute();
        return rows.sort(bySeq).map(toDelivery);
      }),

    record: (id, r) =>
      ctx.system(async (trx) => {
        await trx
          .updateTable('webhook_deliveries')
          .set({
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.nextAttemptAt,
            last_status: r.lastStatus,
            last_error: r.lastError,
            delivered_at: r.deliveredAt,
          })
          .where('id', '=', id)
          .execute();
      }),

    deliveries: (scope, webhookId, limit) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('webhook_id', '=', webhookId)
          .orderBy('created_at', 'desc')
          .orderBy('seq', 'desc')
          .limit(limit)
          .execute();
        return rows.map(toDelivery);
      }),
  };
}
