// Request and response schemas of GET /v1/usage (validation, OpenAPI and the SDK's types). The answer is
// UsageService.report (src/services/metering/usage.ts); units and prices are in docs/metering.md.
import { type Static, Type } from 'typebox';

const Instant = (description: string) => Type.String({ format: 'date-time', description });

export const UsageQuerySchema = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        description:
          'start of the range (inclusive): an ISO 8601 date (midnight UTC) or a date-time with a zone. Default: the start of the month holding `to`, or of the current month',
      }),
    ),
    to: Type.Optional(
      Type.String({
        description:
          'end of the range (exclusive), same forms as `from`. Default: the end of the month holding `from`, or of the current month',
      }),
    ),
    granularity: Type.Optional(
      Type.String({
        description:
          'hour, day (default) or month: the periods usage is summed into (UTC). A range spans at most 31 days by hour, 366 by day, 3653 by month',
      }),
    ),
  },
  { additionalProperties: false },
);
export type UsageQueryParams = Static<typeof UsageQuerySchema>;

const quantity = (description: string) => Type.Optional(Type.Number({ description }));

/** Sums by kind; a kind without usage is absent. */
export const UsageTotalsSchema = Type.Object(
  {
    training_cpu_seconds: quantity('CPU-seconds of training jobs (their child processes, all attempts)'),
    training_wall_seconds: quantity('wall-clock seconds training jobs ran (all attempts)'),
    training_rows: quantity('rows of the dataset versions that trained the registered versions'),
    predict_requests: quantity('successful predict requests'),
    predicted_rows: quantity('instances predicted (one instance = one prediction)'),
    inference_cpu_seconds: quantity(
      "model run time attributed to the tenant (a micro-batch's time split by rows)",
    ),
    storage_byte_hours: quantity('stored (encrypted) bytes × hours held: datasets, models, prediction logs'),
    monitoring_runs: quantity('models judged by the monitoring loop (one per model and monitoring window)'),
  },
  { additionalProperties: false, description: 'usage by kind; absent kinds are 0' },
);

export const CostSchema = Type.Object(
  {
    training: Type.Number({ description: 'training_cpu_seconds × cpuSecond' }),
    inference: Type.Number({ description: 'inference_cpu_seconds × cpuSecond' }),
    predictions: Type.Number({ description: 'predicted_rows / 1000 × per1000Predictions' }),
    storage: Type.Number({ description: 'storage_byte_hours / 10^9 / 730 × gbMonth' }),
    monitoring: Type.Number({ description: 'monitoring_runs × monitoringRun' }),
    total: Type.Number({ description: 'the sum of the lines' }),
  },
  { description: 'cost by line, in the price table currency' },
);

export const PriceTableSchema = Type.Object(
  {
    currency: Type.String({ description: 'ISO 4217 code, e.g. USD' }),
    cpuSecond: Type.Number({ description: 'price of one CPU-second (training and inference alike)' }),
    per1000Predictions: Type.Number({ description: 'price of 1,000 predicted rows' }),
    gbMonth: Type.Number({ description: 'price of 10^9 bytes held for 730 hours' }),
    monitoringRun: Type.Number({ description: 'price of one monitoring run' }),
  },
  { description: 'the price table in force (TENANTML_PRICES)' },
);

const totalsPair = {
  usage: UsageTotalsSchema,
  sharedUsage: Type.Object(UsageTotalsSchema.properties, {
    additionalProperties: false,
    description:
      'the part of `usage` that is this tenant’s apportioned share of training shared models (origin shared)',
  }),
  cost: CostSchema,
};

export const UsagePeriodSchema = Type.Object({
  start: Instant('start of the period (UTC)'),
  ...totalsPair,
});

export const TenantUsageSchema = Type.Object({
  tenantId: Type.String({
    description: 'the tenant; `_shared` is the shared namespace (shared-model training the operator keeps)',
  }),
  periods: Type.Array(UsagePeriodSchema, { description: 'periods with usage, oldest first' }),
  total: Type.Object(totalsPair, { description: 'the whole range' }),
});

export const UsageReportSchema = Type.Object(
  {
    from: Instant('start of the range (inclusive)'),
    to: Instant('end of the range (exclusive)'),
    granularity: Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('month')], {
      description: 'the periods usage is summed into (UTC hours, days or calendar months)',
    }),
    currency: Type.String({ description: 'currency of every cost' }),
    prices: PriceTableSchema,
    sharedCostPolicy: Type.Optional(
      Type.Union([Type.Literal('contributors'), Type.Literal('operator')], {
        description:
          'who pays for training shared models: the contributing tenants by rows (their share shows in sharedUsage), or the operator (usage stays on _shared)',
      }),
    ),
    tenants: Type.Array(TenantUsageSchema, {
      description:
        'a tenant key: its own entry only; the operator: every tenant with usage in the range (or the one named by X-Tenant-Id)',
    }),
  },
  { $id: 'UsageReport' },
);
export type UsageReportBody = Static<typeof UsageReportSchema>;
