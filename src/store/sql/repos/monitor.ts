// Monitoring state of the MLOps loop: per-version windows of folded predictions, the cursor into each
// model's prediction log, and the feedback (true labels) waiting to be folded. A commit moves windows and
// cursor together, so a crash between the two can neither fold a log batch twice nor skip one.

import { type Selectable, sql } from 'kysely';
import { AppError } from '../../../core/errors.ts';
import type { Granularity } from '../../../core/monitoring.ts';
import { SHARED_NAMESPACE } from '../../../core/scope.ts';
import type { FeedbackItem, MonitorCursor, MonitorRepo, MonitorWindow } from '../../ports.ts';
import type { SqlContext } from '../context.ts';
import type { MonitorFeedbackTable, MonitorWindowsTable } from '../schema.ts';
import { num } from './rows.ts';

// Rows per multi-row statement: well under SQLite's bound-parameter limit and PostgreSQL's 65535.
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function toWindow(r: Selectable<MonitorWindowsTable>): MonitorWindow {
  return {
    tenantId: r.tenant_id,
    model: r.model,
    version: num(r.version),
    granularity: r.granularity as Granularity,
    start: r.start,
    rows: num(r.rows),
    aggregate: JSON.parse(r.aggregate) as unknown,
    report: r.report == null ? null : (JSON.parse(r.report) as unknown),
    updatedAt: r.updated_at,
  };
}

function toFeedback(r: Selectable<MonitorFeedbackTable>): FeedbackItem {
  return {
    model: r.model,
    predictionId: r.prediction_id,
    label: JSON.parse(r.label) as FeedbackItem['label'],
    receivedAt: r.received_at,
  };
}

const windowKey = (w: MonitorWindow): string => JSON.stringify([w.version, w.granularity, w.start]);

export function monitorRepo(ctx: SqlContext): MonitorRepo {
  return {
    cursor: (scope, model) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('monitor_cursors')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .executeTakeFirst();
        return row
          ? ({ model: row.model, lastKey: row.last_key, updatedAt: row.updated_at } as MonitorCursor)
          : null;
      }),

    commit: (scope, model, windows, cursor, expectedLastKey) =>
      ctx.scoped(scope, async (trx) => {
        for (const w of windows)
          if (w.model !== model)
            throw new Error(`monitor.commit: a window of model ${w.model} in a commit of ${model}`);
        // The cursor is written first: any failing window below then takes the cursor's move back with it.
        if (expectedLastKey !== undefined && cursor !== null) {
          // Compare and set, in one statement each, so that it holds between processes on both databases.
          let moved: boolean;
          if (expectedLastKey === null) {
            const inserted = await trx
              .insertInto('monitor_cursors')
              .values({
                tenant_id: scope.tenantId,
                model,
                last_key: cursor.lastKey,
                updated_at: cursor.updatedAt,
              })
              .onConflict((oc) =>
                oc
                  .columns(['tenant_id', 'model'])
                  .doUpdateSet({ last_key: cursor.lastKey, updated_at: cursor.updatedAt })
                  .where('monitor_cursors.last_key', 'is', null),
              )
              .executeTakeFirst();
            moved = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0;
          } else {
            const updated = await trx
              .updateTable('monitor_cursors')
              .set({ last_key: cursor.lastKey, updated_at: cursor.updatedAt })
              .where('tenant_id', '=', scope.tenantId)
              .where('model', '=', model)
              .where('last_key', '=', expectedLastKey)
              .executeTakeFirst();
            moved = Number(updated.numUpdatedRows) === 0;
          }
          if (moved)
            throw new AppError(
              'conflict',
              `the monitoring cursor of ${model} moved: another process folded it`,
            );
        } else if (cursor !== null)
          await trx
            .insertInto('monitor_cursors')
            .values({
              tenant_id: scope.tenantId,
              model,
              last_key: cursor.lastKey,
              updated_at: cursor.updatedAt,
            })
            .onConflict((oc) =>
              oc
                .columns(['tenant_id', 'model'])
                .doUpdateSet({ last_key: cursor.lastKey, updated_at: cursor.updatedAt }),
            )
            .execute();
        // One statement may not touch a row twice (PostgreSQL's ON CONFLICT rule): the last of duplicates wins.
        const unique = [...new Map(windows.map((w) => [windowKey(w), w])).values()];
        for (const part of chunks(unique))
          await trx
            .insertInto('monitor_windows')
            .values(
              part.map((w) => ({
                tenant_id: scope.tenantId,
                model,
                version: w.version,
                granularity: w.granularity,
                start: w.start,
                rows: w.rows,
                aggregate: JSON.stringify(w.aggregate),
                report: w.report == null ? null : JSON.stringify(w.report),
                updated_at: w.updatedAt,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['tenant_id', 'model', 'version', 'granularity', 'start']).doUpdateSet((eb) => ({
                rows: eb.ref('excluded.rows'),
                aggregate: eb.ref('excluded.aggregate'),
                report: eb.ref('excluded.report'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute();
      }),

    window: (scope, model, version, granularity, start) =>
      ctx.scoped(scope, async (trx) => {
        const row = await trx
          .selectFrom('monitor_windows')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .where('version', '=', version)
          .where('granularity', '=', granularity)
          .where('start', '=', start)
          .executeTakeFirst();
        return row ? toWindow(row) : null;
      }),

    windows: (scope, model, q = {}) =>
      ctx.scoped(scope, async (trx) => {
        let query = trx
          .selectFrom('monitor_windows')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model);
        if (q.granularity !== undefined) query = query.where('granularity', '=', q.granularity);
        if (q.version !== undefined) query = query.where('version', '=', q.version);
        // from inclusive, to exclusive, on the window's start: [from, to) like the prediction log's reader.
        if (q.from !== undefined) query = query.where('start', '>=', q.from);
        if (q.to !== undefined) query = query.where('start', '<', q.to);
        query = query.orderBy('start', 'desc').orderBy('version', 'desc').orderBy('granularity');
        if (q.limit !== undefined) query = query.limit(q.limit);
        return (await query.execute()).map(toWindow);
      }),

    // Watched: (1) every model with a live version in a tenant's own namespace; (2) every shared model with
    // a live version for which the tenant has a monitor cursor, unless the tenant's own live model of that
    // name shadows it. Shared models are monitored per tenant through that tenant's own prediction log,
    // and a tenant that never predicted with one has nothing to watch; the cursor is what says it has
    // (the inference side or the loop creates it). The _shared namespace itself is never listed.
    watched: (after, limit) =>
      ctx.system(async (trx) => {
        const afterClause = after
          ? sql`where w.tenant_id > ${after.tenantId} or (w.tenant_id = ${after.tenantId} and w.model > ${after.model})`
          : sql``;
        const { rows } = await sql<{ tenant_id: string; model: string; live_version: number | string }>`
          select w.tenant_id, w.model, w.live_version from (
            select m.tenant_id, m.name as model, m.live_version
              from models m
              where m.tenant_id <> ${SHARED_NAMESPACE} and m.live_version is not null
            union all
            select c.tenant_id, c.model, s.live_version
              from monitor_cursors c
              join models s on s.tenant_id = ${SHARED_NAMESPACE} and s.name = c.model
              where s.live_version is not null and c.tenant_id <> ${SHARED_NAMESPACE}
                and not exists (
                  select 1 from models o
                  where o.tenant_id = c.tenant_id and o.name = c.model and o.live_version is not null
                )
          ) w
          ${afterClause}
          order by w.tenant_id, w.model
          limit ${limit}`.execute(trx);
        return rows.map((r) => ({ tenantId: r.tenant_id, model: r.model, liveVersion: num(r.live_version) }));
      }),

    addFeedback: (scope, items) =>
      ctx.scoped(scope, async (trx) => {
        let accepted = 0;
        for (const part of chunks(items)) {
          const rows = await trx
            .insertInto('monitor_feedback')
            .values(
              part.map((f) => ({
                tenant_id: scope.tenantId,
                model: f.model,
                prediction_id: f.predictionId,
                label: JSON.stringify(f.label),
                received_at: f.receivedAt,
                state: 'pending',
              })),
            )
            // The first label stands: a client retrying, or changing its mind, does not rewrite history.
            .onConflict((oc) => oc.columns(['tenant_id', 'model', 'prediction_id']).doNothing())
            .returning('seq')
            .execute();
          accepted += rows.length;
        }
        return { accepted, duplicates: items.length - accepted };
      }),

    pendingFeedback: (scope, model, limit) =>
      ctx.scoped(scope, async (trx) => {
        const rows = await trx
          .selectFrom('monitor_feedback')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('model', '=', model)
          .where('state', '=', 'pending')
          .orderBy('received_at')
          .orderBy('seq')
          .limit(limit)
          .execute();
        return rows.map(toFeedback);
      }),

    settleFeedback: (scope, model, predictionIds, outcome) =>
      ctx.scoped(scope, async (trx) => {
        // Only pending feedback settles: an item is folded at most once whatever the callers race.
        for (const part of chunks(predictionIds))
          await trx
            .updateTable('monitor_feedback')
            .set({ state: outcome })
            .where('tenant_id', '=', scope.tenantId)
            .where('model', '=', model)
            .where('state', '=', 'pending')
            .where('prediction_id', 'in', part)
            .execute();
      }),
  };
}
