// Monitoring routes of a tenant model: ground-truth feedback (predict keys may send it), the windows of
// drift, data quality and performance over time, and the retraining policy. Another tenant's model is a
// 404 like a missing one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { type FieldError, invalidFields, notFound } from '../../core/errors.ts';
import { nameProblem } from '../../core/ids.ts';
import type { Granularity } from '../../core/monitoring.ts';
import type { TenantScope } from '../../core/scope.ts';
import { checkPolicy } from '../../services/monitoring/policy.ts';
import type { StoredReport } from '../../services/monitoring/service.ts';
import type { FeedbackItem, ModelSummary, MonitorWindow, PolicyRecord, Store } from '../../store/ports.ts';
import type { ApiDeps } from '../context.ts';
import {
  FEEDBACK_BODY,
  FeedbackResponseSchema,
  MonitoringQuerySchema,
  MonitoringResponseSchema,
  POLICY_BODY,
  PolicyViewSchema,
  type WindowView,
} from '../monitoring-schemas.ts';
import { NameParams } from '../schemas.ts';
import { errorResponses } from './common.ts';

export const MAX_FEEDBACK_ITEMS = 1000;
const PREDICTION_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** What the monitoring routes need beyond ApiDeps' common fields. */
export type MonitoringRouteDeps = Pick<ApiDeps, 'clock'> & {
  store: Pick<Store, 'models' | 'monitor' | 'policies'>;
  /** The window width reports are read at by default (TENANTML_MONITOR_GRANULARITY). */
  granularity: Granularity;
};

/** The feedback items of a body, or every problem naming `items[i].field` (or `field` for one item). */
export function parseFeedback(body: unknown, model: string, receivedAt: string): FeedbackItem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidFields([
      { field: 'body', message: 'must be an object: {predictionId, label} or {items: [...]}' },
    ]);
  const b = body as Record<string, unknown>;
  const batch = 'items' in b;
  if (batch && (!Array.isArray(b.items) || b.items.length === 0 || b.items.length > MAX_FEEDBACK_ITEMS))
    throw invalidFields([{ field: 'items', message: `must be a list of 1 to ${MAX_FEEDBACK_ITEMS} labels` }]);
  const raw = batch ? (b.items as unknown[]) : [b];
  const errors: FieldError[] = [];
  const items: FeedbackItem[] = [];
  raw.forEach((it, i) => {
    const at = (f: string): string => (batch ? `items[${i}].${f}` : f);
    if (typeof it !== 'object' || it === null || Array.isArray(it)) {
      errors.push({
        field: batch ? `items[${i}]` : 'body',
        message: 'must be an object {predictionId, label}',
      });
      return;
    }
    const { predictionId, label, ...rest } = it as Record<string, unknown>;
    for (const k of Object.keys(rest))
      if (!(k === 'items' && !batch)) errors.push({ field: at(k), message: 'is not a feedback field' });
    if (typeof predictionId !== 'string' || !PREDICTION_ID.test(predictionId))
      errors.push({ field: at('predictionId'), message: 'must be a prediction id such as req_….0' });
    const okLabel =
      (typeof label === 'string' && label.length > 0 && label.length <= 1000) ||
      (typeof label === 'number' && Number.isFinite(label)) ||
      typeof label === 'boolean';
    if (!okLabel)
      errors.push({ field: at('label'), message: 'must be a string, a finite number or a boolean' });
    if (errors.length === 0)
      items.push({
        model,
        predictionId: predictionId as string,
        label: label as FeedbackItem['label'],
        receivedAt,
      });
  });
  if (errors.length > 0) throw invalidFields(errors);
  return items;
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function windowView(w: MonitorWindow): WindowView {
  const r = (w.report ?? null) as StoredReport | null;
  const feature = (f: StoredReport['features'][number]) => ({
    name: f.name,
    kind: f.kind,
    method: f.method,
    statistic: finite(f.statistic),
    pValue: finite(f.pValue),
    threshold: f.threshold,
    drifted: f.drifted,
    psi: finite(f.psi),
    missingRate: finite(f.missingRate),
    outOfRange: finite(f.outOfRange),
    unseen: finite(f.unseen),
  });
  return {
    version: w.version,
    granularity: w.granularity,
    start: w.start,
    rows: w.rows,
    status: r?.status ?? 'insufficient_data',
    datasetDrift: r?.datasetDrift ?? false,
    driftedShare: r?.driftedShare ?? 0,
    features: (r?.features ?? []).map(feature),
    prediction: r?.prediction ? feature(r.prediction) : null,
    performance: r?.performance ?? null,
    performanceDrop: r?.performanceDrop ?? false,
    reference: r?.reference ?? null,
    updatedAt: w.updatedAt,
  } as WindowView;
}

const policyView = (p: PolicyRecord) => ({
  model: p.model,
  policy: p.policy,
  lastFiredAt: p.lastFiredAt,
  lastTrigger: p.lastTrigger,
  updatedAt: p.updatedAt,
});

export function monitoringRoutes(deps: MonitoringRouteDeps): FastifyPluginAsyncTypebox {
  const model = async (scope: TenantScope, name: string): Promise<ModelSummary> => {
    const m = nameProblem(name) ? null : await deps.store.models.get(scope, name);
    if (!m) throw notFound('model');
    return m;
  };
  return async (app) => {
    const tags = ['monitoring'];
    app.post(
      '/v1/models/:name/feedback',
      {
        config: { auth: 'tenant', audit: 'model.feedback' },
        bodyLimit: 1024 * 1024,
        schema: {
          tags,
          summary:
            'Send the true label of predictions (one, or up to 1000 in items); predict keys may send it',
          params: NameParams,
          body: Type.Unknown({ description: FEEDBACK_BODY }),
          response: { 202: FeedbackResponseSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        const scope = req.scope!;
        const { name } = req.params;
        req.auditTarget = name;
        await model(scope, name);
        const items = parseFeedback(req.body, name, deps.clock.now().toISOString());
        const r = await deps.store.monitor.addFeedback(scope, items);
        return reply.code(202).send(r);
      },
    );

    app.get(
      '/v1/models/:name/monitoring',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary:
            'Monitoring windows, newest first: rows, drift per feature and of predictions, data quality, performance',
          params: NameParams,
          querystring: MonitoringQuerySchema,
          response: { 200: MonitoringResponseSchema, ...errorResponses },
        },
      },
      async (req) => {
        const scope = req.scope!;
        const { name } = req.params;
        const m = await model(scope, name);
        const q = req.query;
        const errors: FieldError[] = [];
        for (const f of ['from', 'to'] as const) {
          if (q[f] !== undefined && Number.isNaN(Date.parse(q[f] as string)))
            errors.push({ field: f, message: 'must be an ISO date or time' });
        }
        if (errors.length > 0) throw invalidFields(errors);
        const iso = (s: string | undefined) => (s === undefined ? undefined : new Date(s).toISOString());
        const windows = await deps.store.monitor.windows(scope, name, {
          granularity: q.granularity ?? deps.granularity,
          ...(q.version !== undefined ? { version: Number(q.version) } : {}),
          ...(q.from !== undefined ? { from: iso(q.from) } : {}),
          ...(q.to !== undefined ? { to: iso(q.to) } : {}),
          limit: Math.min(Math.max(Number(q.limit ?? 168), 1), 1000),
        });
        return { model: name, liveVersion: m.liveVersion, windows: windows.map(windowView) };
      },
    );

    app.get(
      '/v1/models/:name/policy',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary: "The model's retraining policy",
          params: NameParams,
          response: { 200: PolicyViewSchema, ...errorResponses },
        },
      },
      async (req) => {
        const scope = req.scope!;
        await model(scope, req.params.name);
        const p = await deps.store.policies.get(scope, req.params.name);
        if (!p) throw notFound('policy');
        return policyView(p);
      },
    );

    app.put(
      '/v1/models/:name/policy',
      {
        config: { auth: 'tenantAdmin', audit: 'model.policy.put' },
        schema: {
          tags,
          summary: 'Set the retraining policy (replaces the previous one)',
          params: NameParams,
          body: Type.Unknown({ description: POLICY_BODY }),
          response: { 200: PolicyViewSchema, ...errorResponses },
        },
      },
      async (req) => {
        const scope = req.scope!;
        const { name } = req.params;
        req.auditTarget = name;
        await model(scope, name);
        const checked = checkPolicy(req.body);
        if (!('policy' in checked)) throw invalidFields(checked.errors);
        return policyView(
          await deps.store.policies.put(scope, name, checked.policy, deps.clock.now().toISOString()),
        );
      },
    );

    app.delete(
      '/v1/models/:name/policy',
      {
        config: { auth: 'tenantAdmin', audit: 'model.policy.delete' },
        schema: {
          tags,
          summary: 'Remove the retraining policy (the model is still watched)',
          params: NameParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const scope = req.scope!;
        const { name } = req.params;
        req.auditTarget = name;
        await model(scope, name);
        if (!(await deps.store.policies.delete(scope, name))) throw notFound('policy');
        return reply.code(204).send(null);
      },
    );
  };
}
