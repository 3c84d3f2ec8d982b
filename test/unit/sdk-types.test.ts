// Drift guard. The type-level half runs in `npm run typecheck`: every SDK method's parameters and result
// must be exactly the `Static` type of the server's schema, so a schema change breaks the SDK's build.
// The runtime half checks the route table the SDK builds its requests from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Static } from 'typebox';
import type {
  PredictBodySchema,
  PredictResponseSchema,
  V2HealthSchema,
  V2InferRequestSchema,
  V2InferResponseSchema,
  V2ModelMetadataSchema,
} from '../../src/api/inference-schemas.ts';
import type {
  FeedbackBodySchema,
  FeedbackResponseSchema,
  MonitoringQuerySchema,
  MonitoringResponseSchema,
  PolicyViewSchema,
  RetrainPolicySchema,
} from '../../src/api/monitoring-schemas.ts';
import type {
  AdviceSchema,
  AdviseRequestSchema,
  AudienceRequestSchema,
  AuditListSchema,
  DatasetDetailSchema,
  DatasetSummarySchema,
  DatasetVersionSchema,
  FieldErrorSchema,
  ImportRequestSchema,
  JobListQuerySchema,
  JobSchema,
  KeyCreatedSchema,
  KeyInfoSchema,
  ModelDetailSchema,
  ModelLiveChangeSchema,
  ModelSummarySchema,
  ModelVersionSchema,
  ProvenanceQuerySchema,
  ProvenanceRecordSchema,
  RoleSchema,
  SharedTrainRequestSchema,
  TenantCreateSchema,
  TenantDetailSchema,
  TenantPatchSchema,
  TenantProvenanceSchema,
  TenantSchema,
  TrainRequestSchema,
} from '../../src/api/schemas.ts';
import type {
  WebhookCreatedSchema,
  WebhookCreateSchema,
  WebhookDeliverySchema,
  WebhookSchema,
} from '../../src/api/webhook-schemas.ts';
import type {
  FieldError,
  JobListOptions,
  JobStreamEvent,
  MonitoringOptions,
  TenantmlClient,
} from '../../src/sdk/index.ts';
import { fillPath, ROUTES } from '../../src/sdk/routes.ts';

/** True only when A and B are the same type (not merely assignable one way). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Result<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;
type Arg<F, N extends number> = F extends (...args: infer A) => unknown ? A[N] : never;

type C = TenantmlClient;
type Feedback = Static<typeof FeedbackBodySchema>;
type FeedbackItem = Extract<Feedback, { items: unknown }>['items'][number];
type Query = Static<typeof MonitoringQuerySchema>;

// Each line fails to compile when the SDK and the schema disagree.
export const typeChecks: true[] = [
  true satisfies Equals<Arg<C['tenants']['create'], 0>, Static<typeof TenantCreateSchema>>,
  true satisfies Equals<Result<C['tenants']['create']>, Static<typeof TenantSchema>>,
  true satisfies Equals<Result<C['tenants']['list']>, Static<typeof TenantSchema>[]>,
  true satisfies Equals<Result<C['tenants']['get']>, Static<typeof TenantDetailSchema>>,
  true satisfies Equals<Arg<C['tenants']['update'], 1>, Static<typeof TenantPatchSchema>>,
  true satisfies Equals<Result<C['tenants']['update']>, Static<typeof TenantSchema>>,
  true satisfies Equals<Arg<C['keys']['create'], 1>, Static<typeof RoleSchema>>,
  true satisfies Equals<Result<C['keys']['create']>, Static<typeof KeyCreatedSchema>>,
  true satisfies Equals<Result<C['keys']['list']>, Static<typeof KeyInfoSchema>[]>,
  true satisfies Equals<Result<C['datasets']['upload']>, Static<typeof DatasetVersionSchema>>,
  true satisfies Equals<Result<C['datasets']['list']>, Static<typeof DatasetSummarySchema>[]>,
  true satisfies Equals<Result<C['datasets']['get']>, Static<typeof DatasetDetailSchema>>,
  true satisfies Equals<Result<C['audit']['list']>, Static<typeof AuditListSchema>>,
  true satisfies Equals<FieldError, Static<typeof FieldErrorSchema>>,
  true satisfies Equals<Arg<C['models']['train'], 1>, Static<typeof TrainRequestSchema>>,
  true satisfies Equals<Result<C['models']['train']>, Static<typeof JobSchema>>,
  true satisfies Equals<Result<C['models']['list']>, Static<typeof ModelSummarySchema>[]>,
  true satisfies Equals<Result<C['models']['get']>, Static<typeof ModelDetailSchema>>,
  true satisfies Equals<Arg<C['models']['promote'], 1>, number>,
  true satisfies Equals<Result<C['models']['promote']>, Static<typeof ModelDetailSchema>>,
  true satisfies Equals<Result<C['models']['rollback']>, Static<typeof ModelDetailSchema>>,
  true satisfies Equals<
    Static<typeof ModelDetailSchema>['liveHistory'],
    Static<typeof ModelLiveChangeSchema>[]
  >,
  true satisfies Equals<Result<C['jobs']['list']>, Static<typeof JobSchema>[]>,
  true satisfies Equals<Result<C['jobs']['get']>, Static<typeof JobSchema>>,
  true satisfies Equals<Result<C['jobs']['cancel']>, Static<typeof JobSchema>>,
  true satisfies Equals<Result<C['jobs']['wait']>, Static<typeof JobSchema>>,
  true satisfies Equals<Extract<JobStreamEvent, { type: 'job' }>['job'], Static<typeof JobSchema>>,
  true satisfies Equals<
    Omit<Extract<JobStreamEvent, { type: 'end' }>, 'type' | 'state'>,
    Pick<Static<typeof JobSchema>, 'result' | 'error'>
  >,
  // The list filters are the query schema's, with `limit` a number instead of its wire string.
  true satisfies Equals<JobListOptions['state'], Static<typeof JobListQuerySchema>['state']>,
  true satisfies Equals<JobListOptions['model'], Static<typeof JobListQuerySchema>['model']>,
  // Shared models (operator).
  true satisfies Equals<Arg<C['shared']['train'], 1>, Static<typeof SharedTrainRequestSchema>>,
  true satisfies Equals<Result<C['shared']['train']>, Static<typeof JobSchema>>,
  // An import is the request without its base64 `onnx`, which the SDK makes from the bytes.
  true satisfies Equals<Arg<C['shared']['import'], 2>, Omit<Static<typeof ImportRequestSchema>, 'onnx'>>,
  true satisfies Equals<Result<C['shared']['import']>, Static<typeof ModelVersionSchema>>,
  true satisfies Equals<Result<C['shared']['list']>, Static<typeof ModelSummarySchema>[]>,
  true satisfies Equals<Result<C['shared']['get']>, Static<typeof ModelDetailSchema>>,
  true satisfies Equals<Arg<C['shared']['publish'], 1>, Static<typeof AudienceRequestSchema>['audience']>,
  true satisfies Equals<Result<C['shared']['publish']>, Static<typeof ModelSummarySchema>>,
  true satisfies Equals<Result<C['shared']['provenance']>, Static<typeof ProvenanceRecordSchema>[]>,
  true satisfies Equals<Result<C['shared']['download']>, Uint8Array>,
  true satisfies Equals<Result<C['shared']['jobs']['list']>, Static<typeof JobSchema>[]>,
  true satisfies Equals<Result<C['shared']['jobs']['get']>, Static<typeof JobSchema>>,
  true satisfies Equals<Result<C['shared']['jobs']['wait']>, Static<typeof JobSchema>>,
  // Provenance: the route answers one of two shapes; the SDK's union is exactly those two.
  true satisfies Equals<Arg<C['provenance']['get'], 0>, Static<typeof ProvenanceQuerySchema>['tenant']>,
  true satisfies Equals<
    Result<C['provenance']['get']>,
    | { tenant: string; versions: Static<typeof ProvenanceRecordSchema>[] }
    | Static<typeof TenantProvenanceSchema>
  >,
  // Advice and predictions.
  true satisfies Equals<Arg<C['models']['advise'], 1>, Static<typeof AdviseRequestSchema>>,
  true satisfies Equals<Result<C['models']['advise']>, Static<typeof AdviceSchema>>,
  true satisfies Equals<Result<C['models']['advice']>, Static<typeof AdviceSchema>[]>,
  true satisfies Equals<Result<C['models']['waitAdvice']>, Static<typeof AdviceSchema>>,
  true satisfies Equals<Arg<C['models']['predict'], 1>, Static<typeof PredictBodySchema>['instances']>,
  true satisfies Equals<Result<C['models']['predict']>, Static<typeof PredictResponseSchema>>,
  true satisfies Equals<Arg<C['v2']['infer'], 1>, Static<typeof V2InferRequestSchema>>,
  true satisfies Equals<Result<C['v2']['infer']>, Static<typeof V2InferResponseSchema>>,
  true satisfies Equals<Result<C['v2']['metadata']>, Static<typeof V2ModelMetadataSchema>>,
  true satisfies Equals<Result<C['v2']['live']>, Static<typeof V2HealthSchema>>,
  true satisfies Equals<Result<C['v2']['ready']>, Static<typeof V2HealthSchema>>,
  // Monitoring: one label or a list (sent as {items}), which together are exactly the body's union.
  true satisfies Equals<Arg<C['models']['feedback'], 1>, FeedbackItem | FeedbackItem[]>,
  true satisfies Equals<FeedbackItem | { items: FeedbackItem[] }, Feedback>,
  true satisfies Equals<Result<C['models']['feedback']>, Static<typeof FeedbackResponseSchema>>,
  true satisfies Equals<Result<C['models']['monitoring']>, Static<typeof MonitoringResponseSchema>>,
  true satisfies Equals<MonitoringOptions['granularity'], Query['granularity']>,
  true satisfies Equals<MonitoringOptions['from'], Query['from']>,
  true satisfies Equals<MonitoringOptions['to'], Query['to']>,
  // `version` and `limit` are numbers instead of their wire strings.
  true satisfies Equals<MonitoringOptions['version'], number | undefined>,
  true satisfies Equals<MonitoringOptions['limit'], number | undefined>,
  true satisfies Equals<Query['version'] | Query['limit'], string | undefined>,
  true satisfies Equals<Exclude<keyof MonitoringOptions, 'signal' | 'timeoutMs'>, keyof Query>,
  true satisfies Equals<Result<C['models']['policy']['get']>, Static<typeof PolicyViewSchema>>,
  true satisfies Equals<Arg<C['models']['policy']['put'], 1>, Static<typeof RetrainPolicySchema>>,
  true satisfies Equals<Result<C['models']['policy']['put']>, Static<typeof PolicyViewSchema>>,
  true satisfies Equals<Result<C['models']['policy']['delete']>, void>,
  // Webhooks.
  true satisfies Equals<Arg<C['webhooks']['create'], 0>, Static<typeof WebhookCreateSchema>>,
  true satisfies Equals<Result<C['webhooks']['create']>, Static<typeof WebhookCreatedSchema>>,
  true satisfies Equals<Result<C['webhooks']['list']>, Static<typeof WebhookSchema>[]>,
  true satisfies Equals<Result<C['webhooks']['get']>, Static<typeof WebhookSchema>>,
  true satisfies Equals<Result<C['webhooks']['deliveries']>, Static<typeof WebhookDeliverySchema>[]>,
  true satisfies Equals<Result<C['webhooks']['test']>, Static<typeof WebhookDeliverySchema>>,
  true satisfies Equals<Result<C['webhooks']['delete']>, void>,
];

// And assignment in both directions, the way an application uses them.
export function assignments(client: C): void {
  void (async () => {
    const t: Static<typeof TenantSchema> = await client.tenants.create({ name: 'x' });
    const back: Awaited<ReturnType<C['tenants']['update']>> = t;
    const v: Static<typeof DatasetVersionSchema> = await client.datasets.upload('d', 'a\n1\n');
    const a: Static<typeof AuditListSchema> = await client.audit.list({ verify: true });
    const j: Static<typeof JobSchema> = await client.jobs.wait(
      (await client.models.train('m', { dataset: 'd', target: 't' })).id,
    );
    const promoted: Static<typeof ModelDetailSchema> = await client.models.promote('m', 2);
    const rolledBack: Static<typeof ModelDetailSchema> = await client.models.rollback('m');
    const imported: Static<typeof ModelVersionSchema> = await client.shared.import('s', new Uint8Array(4), {
      task: 'binary',
      inputs: [{ name: 'x' }],
      publish: 'all',
    });
    const advice: Static<typeof AdviceSchema> = await client.models.waitAdvice(
      'm',
      (await client.models.advise('m', { dataset: 'd', target: 't', autoPromote: true })).id,
    );
    const predicted: Static<typeof PredictResponseSchema> = await client.models.predict('m', [{ x: 1 }]);
    void [back, v, a, j, promoted, rolledBack, imported, advice, predicted];
  });
}

test('the type checks are present (they are enforced by tsc)', () => {
  assert.equal(typeChecks.length, 78);
  assert.ok(typeChecks.every((x) => x === true));
});

test('route table: unique method+path, templates well formed, parameters filled and encoded', () => {
  const seen = new Set<string>();
  for (const [name, r] of Object.entries(ROUTES)) {
    const key = `${r.method} ${r.path}`;
    assert.ok(!seen.has(key), `${name} repeats ${key}`);
    seen.add(key);
    assert.match(r.path, /^\/(v\d+\/)?[a-z]/, name);
    assert.doesNotMatch(r.path, /:[a-z]/i, `${name}: use {param}, not :param`);
    const params = Object.fromEntries([...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1], 'a b/c']));
    const filled = fillPath(r.path, params as never);
    assert.doesNotMatch(filled, /[{}]/, name);
    if (Object.keys(params).length > 0) assert.match(filled, /a%20b%2Fc/, name);
  }
  // Only tenant-owned resources act on a tenant named by header; operator and public routes never carry it.
  // (GET /v1/usage: the operator without the header reads every tenant, with it one.)
  const tenantRoutes = Object.values(ROUTES).filter((r) => r.scope === 'tenant');
  for (const r of tenantRoutes) {
    assert.match(
      r.path,
      /^\/v1\/(datasets|models|jobs|webhooks|usage|budget|quotas)(\/|$)|^\/v2\/models\//,
      r.path,
    );
  }
  assert.ok(tenantRoutes.length >= 28);
  // Monitoring and webhooks act on one tenant's models and subscriptions.
  const watched = Object.values(ROUTES).filter((x) =>
    /\/(feedback|monitoring|policy)$|^\/v1\/webhooks/.test(x.path),
  );
  assert.equal(watched.length, 11);
  for (const r of watched) assert.equal(r.scope, 'tenant', r.path);
  // The shared namespace is the operator's: no shared route may act on a tenant named by header.
  const sharedRoutes = Object.values(ROUTES).filter((r) => r.path.startsWith('/v1/shared/'));
  assert.equal(sharedRoutes.length, 9);
  for (const r of sharedRoutes) assert.equal(r.scope, 'operator', r.path);
  assert.equal(ROUTES.provenance.scope, 'operator', 'the operator names the tenant with ?tenant=');
  // Promotion and rollback are tenant routes whose version travels as a path parameter.
  assert.deepEqual(
    [
      ROUTES.promoteModel.method,
      ROUTES.promoteModel.scope,
      ROUTES.rollbackModel.method,
      ROUTES.rollbackModel.scope,
    ],
    ['POST', 'tenant', 'POST', 'tenant'],
  );
  assert.equal(
    fillPath(ROUTES.promoteModel.path, { name: 'churn', v: '3' }),
    '/v1/models/churn/versions/3/promote',
  );
});

test('the core SDK (everything but node.ts) loads nothing from Node, so it runs in browsers', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const { dirname, join, relative, resolve } = await import('node:path');
  const root = new URL('../../src/sdk/', import.meta.url).pathname;
  const files = (await readdir(root, { recursive: true })).filter(
    (f) => f.endsWith('.ts') && f !== 'node.ts',
  );
  assert.ok(files.length >= 8);
  let runtimeImports = 0;
  for (const f of files) {
    const src = await readFile(join(root, f), 'utf8');
    // Type-only imports vanish at run time; every other import must stay inside src/sdk.
    for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
      if (m[1]) continue;
      runtimeImports++;
      const target = relative(root, resolve(dirname(join(root, f)), m[2]));
      assert.ok(m[2].startsWith('.') && !target.startsWith('..'), `${f} loads ${m[2]} at run time`);
      assert.notEqual(target, 'node.ts', `${f} loads node.ts`);
    }
  }
  assert.ok(runtimeImports > 5, 'the import scan found the imports');
});
