// The request and response schemas of the HTTP API. They validate requests, produce the OpenAPI document
// and give the SDK its types (`Static<typeof X>`), so the three cannot drift apart.
import { type Static, Type } from 'typebox';
import { TENANT_ID_PATTERN } from '../core/ids.ts';
import { TIERS } from '../core/tiers.ts';

const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601 UTC' });

export const FieldErrorSchema = Type.Object(
  {
    field: Type.String({
      description: 'the offending field: a body path, a column, a header or a parameter',
    }),
    message: Type.String(),
    line: Type.Optional(Type.Integer({ description: 'line of the uploaded file, from 1' })),
    index: Type.Optional(Type.Integer({ description: 'index of the offending instance or row, from 0' })),
  },
  { $id: 'FieldError' },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'a URI naming the problem type: /problems/<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable machine-readable code; see docs/errors.md' }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const TierSchema = Type.Union(
  [Type.Literal('free'), Type.Literal('standard'), Type.Literal('premium')],
  {
    description: 'service tier; carries default quotas',
  },
);
// The literal list above must name every tier: this fails to compile when a tier is added to core only.
export const SCHEMA_TIERS: readonly Static<typeof TierSchema>[] = TIERS;

const quotaNumber = (description: string) => Type.Integer({ minimum: 0, description });
export const QuotasSchema = Type.Object(
  {
    datasets: quotaNumber('datasets a tenant may hold'),
    rowsPerDataset: quotaNumber('rows in one dataset version'),
    columnsPerDataset: quotaNumber('columns in one dataset version'),
    storageBytes: quotaNumber('bytes of stored artifacts'),
    concurrentJobs: quotaNumber('training jobs running at once'),
    queuedJobs: quotaNumber('training jobs waiting'),
    predictionsPerSecond: quotaNumber('rows predicted per second'),
    requestsPerSecond: quotaNumber('prediction requests per second'),
    inFlightRequests: quotaNumber('prediction requests admitted and not yet answered'),
    trainingRows: quotaNumber('rows one training job may train on'),
    cpuSecondsPerJob: quotaNumber('CPU-seconds one training job may use'),
    jobTimeoutSeconds: quotaNumber('wall-clock seconds one training job may run'),
    jobHeapMb: quotaNumber('heap limit of a training job, MiB'),
    cpuSecondsPerMonth: quotaNumber('training CPU-seconds per calendar month (UTC), all jobs together'),
  },
  { $id: 'Quotas', additionalProperties: false },
);
export const QuotaOverridesSchema = Type.Partial(QuotasSchema, { additionalProperties: false });

export const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    tier: TierSchema,
    sharedTraining: Type.Boolean({ description: 'consent to pool de-identified data into shared models' }),
    quotaOverrides: QuotaOverridesSchema,
    quotas: QuotasSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Tenant' },
);

export const ConsentChangeSchema = Type.Object({
  sharedTraining: Type.Boolean(),
  changedBy: Type.String({ description: 'key id, or "operator"' }),
  changedAt: Timestamp,
});

export const TenantDetailSchema = Type.Intersect([
  TenantSchema,
  Type.Object({ consentHistory: Type.Array(ConsentChangeSchema) }),
]);

export const TenantCreateSchema = Type.Object(
  {
    id: Type.Optional(
      Type.String({
        pattern: TENANT_ID_PATTERN,
        description: 'lower-case letters, digits, dashes; generated if absent',
      }),
    ),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    tier: Type.Optional(TierSchema),
    sharedTraining: Type.Optional(Type.Boolean({ default: false })),
    quotaOverrides: Type.Optional(QuotaOverridesSchema),
  },
  { additionalProperties: false },
);

export const TenantPatchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    tier: Type.Optional(TierSchema),
    sharedTraining: Type.Optional(Type.Boolean()),
    quotaOverrides: Type.Optional(QuotaOverridesSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('predict')], {
  description: 'admin: manage the tenant’s data and models; predict: inference and feedback only',
});

export const KeyCreateSchema = Type.Object({ role: RoleSchema }, { additionalProperties: false });

export const KeyCreatedSchema = Type.Object({
  id: Type.String({ description: 'public key id' }),
  key: Type.String({ description: 'the secret key; shown once, never again' }),
  tenantId: Type.String(),
  role: RoleSchema,
  createdAt: Timestamp,
});

export const KeyInfoSchema = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  role: RoleSchema,
  createdAt: Timestamp,
  createdBy: Type.String(),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
});

export const ColumnSchemaSchema = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal('numeric'),
    Type.Literal('integer'),
    Type.Literal('boolean'),
    Type.Literal('categorical'),
    Type.Literal('text'),
    Type.Literal('datetime'),
  ]),
  nullable: Type.Boolean(),
  missing: Type.Integer(),
  distinct: Type.Integer(),
  distinctApprox: Type.Boolean(),
  identifying: Type.Boolean({ description: 'looks like it identifies a person' }),
  identifyingReasons: Type.Array(Type.String()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
});

export const DatasetVersionSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    rows: Type.Integer(),
    schema: Type.Object({ columns: Type.Array(ColumnSchemaSchema) }),
    sha256: Type.String({ description: 'sha256 of the uploaded body, hex' }),
    format: Type.Union([Type.Literal('csv'), Type.Literal('json'), Type.Literal('ndjson')]),
    storedBytes: Type.Integer({ description: 'bytes stored (encrypted)' }),
    createdAt: Timestamp,
    createdBy: Type.String(),
  },
  { $id: 'DatasetVersion' },
);

export const DatasetSummarySchema = Type.Object({
  name: Type.String(),
  latestVersion: Type.Integer(),
  versions: Type.Integer(),
  createdAt: Timestamp,
});

export const DatasetDetailSchema = Type.Object({
  name: Type.String(),
  latestVersion: Type.Integer(),
  createdAt: Timestamp,
  versions: Type.Array(DatasetVersionSchema),
  preview: Type.Object({
    version: Type.Integer(),
    columns: Type.Array(Type.String()),
    rows: Type.Array(Type.Array(Type.Unknown()), { description: 'the first rows of the latest version' }),
  }),
});

export const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  actorKeyId: Type.String(),
  actorRole: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  at: Timestamp,
  prevHash: Type.String(),
  hash: Type.String(),
});

export const AuditListSchema = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  verified: Type.Optional(
    Type.Object({
      ok: Type.Boolean(),
      brokenAt: Type.Optional(Type.Integer()),
      reason: Type.Optional(Type.String()),
    }),
  ),
});

export const NameParams = Type.Object({
  name: Type.String({ description: 'dataset or model name', maxLength: 1000 }),
});
export const TenantIdParams = Type.Object({ id: Type.String({ maxLength: 1000 }) });
export const KeyParams = Type.Object({
  id: Type.String({ maxLength: 1000 }),
  keyId: Type.String({ maxLength: 200 }),
});

export const HealthSchema = Type.Object({ status: Type.String() });

export type TenantView = Static<typeof TenantSchema>;
export type TenantDetailView = Static<typeof TenantDetailSchema>;
export type TenantCreate = Static<typeof TenantCreateSchema>;
export type TenantPatchBody = Static<typeof TenantPatchSchema>;
export type KeyCreated = Static<typeof KeyCreatedSchema>;
export type KeyInfo = Static<typeof KeyInfoSchema>;
export type DatasetVersionView = Static<typeof DatasetVersionSchema>;
export type DatasetSummary = Static<typeof DatasetSummarySchema>;
export type DatasetDetail = Static<typeof DatasetDetailSchema>;
export type AuditEntryView = Static<typeof AuditEntrySchema>;
export type AuditList = Static<typeof AuditListSchema>;
export type Problem = Static<typeof ProblemSchema>;

// ---- training jobs -------------------------------------------------------------------------------

export const ModelRefSchema = Type.Object(
  { model: Type.String(), version: Type.Integer() },
  { description: 'one model version' },
);

export const AudienceSchema = Type.Union([Type.Literal('all'), Type.Array(Type.String(), { minItems: 1 })], {
  description: "who may use a shared model: 'all' tenants, or a list of tenant ids",
});

export const TaskSchema = Type.Union(
  [Type.Literal('binary'), Type.Literal('multiclass'), Type.Literal('regression')],
  {
    description: 'inferred from the target when absent',
  },
);

export const TrainRequestSchema = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 128, description: 'dataset name' }),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'dataset version; default the latest' })),
    target: Type.String({ minLength: 1, maxLength: 1000, description: 'the column to predict' }),
    task: Type.Optional(TaskSchema),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('linear'), Type.Literal('gbdt')], {
        description: 'default auto (see docs/learning.md)',
      }),
    ),
    mode: Type.Optional(
      Type.Union([Type.Literal('tenant'), Type.Literal('tuned')], { description: 'default tenant' }),
    ),
    base: Type.Optional(
      Type.String({ maxLength: 200, description: 'tuned models: <shared name>[@version]' }),
    ),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'algorithm parameters (docs/learning.md)' }),
    ),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        description: 'fixes the split and sampling; derived from the job id when absent',
      }),
    ),
    validFraction: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 0.5,
        description: 'share held out for validation; default 0.2',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({ minimum: -10, maximum: 10, description: 'higher first within the tenant' }),
    ),
  },
  { additionalProperties: false },
);

export const JobStateSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
  Type.Literal('timed_out'),
]);

export const JobProgressSchema = Type.Object({
  phase: Type.String({ description: 'loading, featurizing, training, evaluating, exporting, saving' }),
  iteration: Type.Optional(Type.Integer()),
  totalIterations: Type.Optional(Type.Integer()),
  metric: Type.Optional(Type.Object({ name: Type.String(), value: Type.Number() })),
  etaSeconds: Type.Optional(Type.Number()),
  at: Timestamp,
});

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.Literal('train'),
    state: JobStateSchema,
    priority: Type.Integer(),
    model: Type.String(),
    spec: Type.Object({
      model: Type.String(),
      dataset: Type.String(),
      datasetVersion: Type.Integer(),
      target: Type.String(),
      task: Type.Optional(TaskSchema),
      algorithm: Type.String(),
      mode: Type.String({ description: 'tenant, tuned or shared' }),
      base: Type.Optional(ModelRefSchema),
      pool: Type.Optional(
        Type.Object(
          {
            maxRowsPerTenant: Type.Optional(Type.Integer()),
            features: Type.Optional(Type.Array(Type.String())),
            tenants: Type.Optional(Type.Array(Type.String())),
          },
          { description: 'shared training: how consenting tenants’ data is pooled' },
        ),
      ),
      audience: Type.Optional(AudienceSchema),
      advice: Type.Optional(Type.String({ description: 'the advice this job is a candidate for' })),
      reason: Type.Optional(
        Type.String({
          description: 'set when the platform queued it: retrain-after-taint, retune-on-successor',
        }),
      ),
      params: Type.Record(Type.String(), Type.Unknown()),
      seed: Type.Integer(),
      validFraction: Type.Number(),
    }),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    cancelRequested: Type.Boolean(),
    progress: Type.Union([JobProgressSchema, Type.Null()]),
    limits: Type.Object({ timeoutSeconds: Type.Number(), cpuSeconds: Type.Number(), heapMb: Type.Number() }),
    cpuSeconds: Type.Number({ description: 'CPU time of the job’s processes, all attempts' }),
    wallSeconds: Type.Number(),
    error: Type.Union([Type.String(), Type.Null()]),
    result: Type.Union([
      Type.Object({
        model: Type.String(),
        version: Type.Integer(),
        baseMetrics: Type.Optional(
          Type.Record(Type.String(), Type.Number(), {
            description: 'tuned jobs: the shared base measured on the same validation rows',
          }),
        ),
      }),
      Type.Null(),
    ]),
    createdAt: Timestamp,
    createdBy: Type.String(),
    startedAt: Type.Union([Timestamp, Type.Null()]),
    finishedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'Job' },
);

export const JobIdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });

export const JobListQuerySchema = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    model: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 100' })),
  },
  { additionalProperties: false },
);

export type TrainRequest = Static<typeof TrainRequestSchema>;
export type JobView = Static<typeof JobSchema>;

// ---- models ----------------------------------------------------------------------------------------

export const ModelVersionSchema = Type.Object(
  {
    model: Type.String(),
    version: Type.Integer(),
    mode: Type.Union([Type.Literal('tenant'), Type.Literal('shared'), Type.Literal('tuned')]),
    task: Type.String(),
    algorithm: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
    metrics: Type.Record(Type.String(), Type.Unknown(), {
      description: 'validation metrics (docs/learning.md)',
    }),
    datasets: Type.Array(
      Type.Object({
        tenantId: Type.String(),
        name: Type.String(),
        version: Type.Integer(),
        rows: Type.Integer(),
      }),
      { description: 'lineage: the dataset versions that trained it' },
    ),
    checksum: Type.String({ description: 'sha256 of model.onnx' }),
    jobId: Type.Union([Type.String(), Type.Null()]),
    base: Type.Union([ModelRefSchema, Type.Null()], {
      description: 'tuned versions: the shared version they were trained from',
    }),
    status: Type.Union([Type.Literal('ok'), Type.Literal('tainted')], {
      description: 'tainted: holds data that may no longer be used; replaced once a clean successor exists',
    }),
    taint: Type.Union([Type.Object({ at: Timestamp, reason: Type.String() }), Type.Null()]),
    live: Type.Boolean({ description: 'this version answers predictions' }),
    createdAt: Timestamp,
    createdBy: Type.String(),
  },
  { $id: 'ModelVersion' },
);

export const ModelSummarySchema = Type.Object({
  name: Type.String(),
  latestVersion: Type.Integer(),
  liveVersion: Type.Union([Type.Integer(), Type.Null()]),
  versions: Type.Integer(),
  audience: Type.Union([AudienceSchema, Type.Null()], {
    description: 'shared models: who may use it (null: not published); tenant models: null',
  }),
  createdAt: Timestamp,
});

export const ModelLiveChangeSchema = Type.Object(
  {
    fromVersion: Type.Union([Type.Integer(), Type.Null()], { description: 'live before the change' }),
    toVersion: Type.Integer({ description: 'live after the change' }),
    actor: Type.String({ description: 'key id that made the change (`operator` for the operator’s)' }),
    at: Timestamp,
    reason: Type.Union([Type.Literal('promote'), Type.Literal('rollback'), Type.Literal('successor')], {
      description: 'successor: a clean version replaced a tainted live one on registering',
    }),
  },
  { $id: 'ModelLiveChange' },
);

export const ModelDetailSchema = Type.Intersect([
  ModelSummarySchema,
  Type.Object({
    versionList: Type.Array(ModelVersionSchema),
    liveHistory: Type.Array(ModelLiveChangeSchema, {
      description: 'every promotion and rollback of the live version, oldest first',
    }),
  }),
]);

export type ModelVersionView = Static<typeof ModelVersionSchema>;
export type ModelSummaryView = Static<typeof ModelSummarySchema>;
export type ModelDetailView = Static<typeof ModelDetailSchema>;
export type ModelLiveChangeView = Static<typeof ModelLiveChangeSchema>;

export const ModelVersionParams = Type.Object({
  name: Type.String({ description: 'model name', maxLength: 1000 }),
  v: Type.String({ pattern: '^[1-9][0-9]{0,8}$', description: 'version number, a positive integer' }),
});

// ---- shared models, provenance, advice -----------------------------------------------------------

export const SharedTrainRequestSchema = Type.Object(
  {
    dataset: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'dataset name looked up in every consenting tenant (its latest version)',
    }),
    target: Type.String({ minLength: 1, maxLength: 1000 }),
    task: Type.Optional(TaskSchema),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('linear'), Type.Literal('gbdt')], {
        description: 'default linear: the base that tuning and the advisor handle best (docs/approaches.md)',
      }),
    ),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    maxRowsPerTenant: Type.Optional(
      Type.Integer({ minimum: 10, description: 'rows taken at most from one tenant (a seeded sample)' }),
    ),
    features: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'columns to pool; default: those most tenants have with a compatible type',
      }),
    ),
    tenants: Type.Optional(
      Type.Array(Type.String(), {
        minItems: 1,
        description: 'only these tenants may contribute (consent still required)',
      }),
    ),
    publish: Type.Optional(AudienceSchema),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    validFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 0.5 })),
    priority: Type.Optional(Type.Integer({ minimum: -10, maximum: 10 })),
  },
  { additionalProperties: false },
);

export const ImportRequestSchema = Type.Object(
  {
    onnx: Type.String({ minLength: 1, description: 'the ONNX model, base64' }),
    task: TaskSchema,
    inputs: Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }), {
      minItems: 1,
      description: 'the input columns, in the order of the float input tensor’s second axis',
    }),
    classes: Type.Optional(Type.Array(Type.String(), { description: 'class names in probability order' })),
    input: Type.Optional(Type.String({ description: 'input tensor name; default the only input' })),
    outputs: Type.Optional(
      Type.Object(
        {
          label: Type.Optional(Type.String()),
          probabilities: Type.Optional(Type.String()),
          value: Type.Optional(Type.String()),
        },
        {
          additionalProperties: false,
          description: 'output tensor names; default label/probabilities/value',
        },
      ),
    ),
    publish: Type.Optional(AudienceSchema),
    source: Type.Optional(Type.String({ maxLength: 1000, description: 'where the model comes from' })),
  },
  { additionalProperties: false },
);

export const AudienceRequestSchema = Type.Object(
  { audience: AudienceSchema },
  { additionalProperties: false },
);

export const ProvenanceRecordSchema = Type.Object(
  {
    tenantId: Type.String({ description: 'namespace of the model version (`_shared` for shared models)' }),
    model: Type.String(),
    version: Type.Integer(),
    mode: Type.String(),
    status: Type.String(),
    live: Type.Boolean(),
    source: Type.Object({
      tenantId: Type.String(),
      dataset: Type.String(),
      version: Type.Integer(),
      rows: Type.Integer(),
    }),
    via: Type.Union([ModelRefSchema, Type.Null()], {
      description: 'set when the data came in through a tuned model’s shared base',
    }),
  },
  { $id: 'ProvenanceRecord' },
);

export const TenantProvenanceSchema = Type.Object({
  tenantId: Type.String(),
  contributions: Type.Array(
    Type.Object({
      model: Type.String(),
      version: Type.Integer(),
      status: Type.String(),
      live: Type.Boolean(),
      dataset: Type.String(),
      datasetVersion: Type.Integer(),
      rows: Type.Integer(),
    }),
    { description: 'shared versions trained on this tenant’s data' },
  ),
  tunedElsewhere: Type.Integer({ description: 'tuned models of other tenants built on those versions' }),
  sharedInUse: Type.Array(
    Type.Object({
      model: Type.String(),
      liveVersion: Type.Union([Type.Integer(), Type.Null()]),
      tunedBy: Type.Array(ModelRefSchema),
    }),
    { description: 'shared models published to this tenant, with its own tuned models built on them' },
  ),
});

export const ProvenanceQuerySchema = Type.Object(
  { tenant: Type.Optional(Type.String({ maxLength: 200, description: 'operator: whose data' })) },
  { additionalProperties: false },
);

export const AdviseRequestSchema = Type.Object(
  {
    dataset: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    target: Type.String({ minLength: 1, maxLength: 1000 }),
    autoPromote: Type.Optional(
      Type.Boolean({ description: 'make the recommended tenant or tuned candidate live when done' }),
    ),
  },
  { additionalProperties: false },
);

export const AdviceSchema = Type.Object(
  {
    id: Type.String(),
    model: Type.String(),
    dataset: Type.String(),
    datasetVersion: Type.Integer(),
    target: Type.String(),
    shared: Type.Union([ModelRefSchema, Type.Null()], { description: 'the shared version evaluated' }),
    jobs: Type.Object({ tenant: Type.String(), tuned: Type.Union([Type.String(), Type.Null()]) }),
    autoPromote: Type.Boolean(),
    state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
    result: Type.Union([
      Type.Object({
        metric: Type.Object({ name: Type.String(), higherIsBetter: Type.Boolean() }),
        validRows: Type.Integer(),
        candidates: Type.Array(
          Type.Object({
            mode: Type.String(),
            ref: Type.Union([ModelRefSchema, Type.Null()]),
            metrics: Type.Record(Type.String(), Type.Number()),
            score: Type.Union([Type.Number(), Type.Null()]),
          }),
        ),
        recommendation: Type.String({ description: 'tenant, shared or tuned' }),
        reasons: Type.Array(Type.String()),
        promoted: Type.Union([ModelRefSchema, Type.Null()]),
      }),
      Type.Null(),
    ]),
    error: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    createdBy: Type.String(),
    finishedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'Advice' },
);

export type AdviceView = Static<typeof AdviceSchema>;
export type TenantProvenanceView = Static<typeof TenantProvenanceSchema>;
export type ProvenanceRecordView = Static<typeof ProvenanceRecordSchema>;
