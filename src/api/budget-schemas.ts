// Request and response schemas of the budget and quota routes (validation, OpenAPI and the SDK's types).
import { type Static, Type } from 'typebox';
import { QUOTA_NAMES } from '../core/tiers.ts';
import { QuotasSchema, TierSchema } from './schemas.ts';

// The quota objects again without QuotasSchema's $id: a response holding several of them must not name
// one schema id twice.
const QuotaValues = (description: string) =>
  Type.Object(QuotasSchema.properties, { additionalProperties: false, description });
const QuotaEdits = Type.Partial(QuotaValues(''), {
  additionalProperties: false,
  description: "the operator's edits of the tier (only the quotas edited)",
});

const Month = Type.String({
  pattern: '^\\d{4}-(0[1-9]|1[0-2])$',
  description: 'calendar month (UTC), YYYY-MM',
});
const Money = (description: string) => Type.Number({ description });

const Threshold = Type.Number({
  description: 'a fraction of `monthly` in (0, 10]: 0.5 = 50%, 1 = 100%, 1.5 = 150%',
});

export const BudgetPutSchema = Type.Object(
  {
    monthly: Type.Optional(
      Type.Number({
        description:
          'spend allowed per calendar month (UTC), in the price table currency; >= 0. Required, except in `{override}` alone (operator), which changes only the override of the budget already set',
      }),
    ),
    alertAt: Type.Optional(
      Type.Array(Threshold, {
        description:
          'thresholds that alert once a month each (webhook event `budget` and an audit entry); ascending, no repeats, at most 20; default [0.5, 0.8, 1]',
      }),
    ),
    hardLimit: Type.Optional(
      Type.Boolean({
        description: 'at 100%: refuse new training jobs with 402 budget_exceeded; default false',
      }),
    ),
    blockPredictions: Type.Optional(
      Type.Boolean({ description: 'with hardLimit: refuse predictions too at 100%; default false' }),
    ),
    override: Type.Optional(
      Type.Boolean({
        description:
          'operator only: true lifts the hard limit for the current month, false restores it; absent keeps an override of this month',
      }),
    ),
  },
  { additionalProperties: false },
);
export type BudgetPutBody = Static<typeof BudgetPutSchema>;

export const BudgetSchema = Type.Object({
  monthly: Money('spend allowed per calendar month (UTC)'),
  alertAt: Type.Array(Type.Number(), { description: 'thresholds (fractions of monthly), ascending' }),
  hardLimit: Type.Boolean({ description: 'at 100% new training jobs are refused (402)' }),
  blockPredictions: Type.Boolean({ description: 'at 100% predictions are refused too (402)' }),
  overrideMonth: Type.Union([Month, Type.Null()], {
    description: 'the month the operator lifted the hard limit for, or null',
  }),
});

export const BudgetStateSchema = Type.Object({
  month: Month,
  spent: Money('cost of the month so far (usage × price table)'),
  limit: Money('the monthly budget'),
  ratio: Type.Union([Type.Number(), Type.Null()], {
    description: 'spent / limit; null when the limit is 0 and anything is spent (no finite ratio)',
  }),
  reached: Type.Array(Type.Number(), { description: 'thresholds reached this month' }),
  alerted: Type.Array(Type.Number(), { description: 'thresholds already alerted this month' }),
  blocks: Type.Object(
    {
      training: Type.Boolean({ description: 'new training jobs are refused now' }),
      predictions: Type.Boolean({ description: 'predictions are refused now' }),
    },
    { description: 'what the hard limit refuses now (402 budget_exceeded)' },
  ),
});

export const BudgetViewSchema = Type.Object(
  {
    budget: Type.Object(BudgetSchema.properties, { description: 'the budget as set' }),
    currency: Type.String({ description: 'the price table currency, e.g. USD' }),
    state: Type.Object(BudgetStateSchema.properties, { description: 'the budget this month (UTC)' }),
  },
  { $id: 'BudgetView' },
);
export type BudgetViewBody = Static<typeof BudgetViewSchema>;

export const QuotaNameSchema = Type.Unsafe<(typeof QUOTA_NAMES)[number]>({
  type: 'string',
  enum: [...QUOTA_NAMES],
  description: 'a quota name (docs/limits.md#quotas)',
});

export const QuotaLineSchema = Type.Object({
  name: QuotaNameSchema,
  limit: Type.Integer({ description: 'the value in force' }),
  source: Type.Union([Type.Literal('tier'), Type.Literal('tierEdit'), Type.Literal('override')], {
    description:
      'where it comes from: the tier default, the operator edit of the tier, or the tenant override',
  }),
  used: Type.Optional(
    Type.Number({
      description:
        'current use where measurable: datasets held, bytes stored, jobs queued, jobs running (concurrentJobs), training CPU-seconds this month',
    }),
  ),
});

export const TierLineSchema = Type.Object({
  tier: TierSchema,
  defaults: QuotaValues('the built-in defaults of the tier'),
  edits: QuotaEdits,
  quotas: QuotaValues(
    'in force for the tier: the defaults with the edits applied (a tenant override wins over both)',
  ),
});

export const QuotasViewSchema = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ description: 'the tenant (tenant view)' })),
    tier: Type.Optional(TierSchema),
    quotas: Type.Optional(
      Type.Array(QuotaLineSchema, { description: 'the tenant view: one line per quota' }),
    ),
    tiers: Type.Optional(
      Type.Array(TierLineSchema, {
        description: 'the operator view without X-Tenant-Id: each tier with its defaults and edits',
      }),
    ),
  },
  { $id: 'QuotasView' },
);
export type QuotasViewBody = Static<typeof QuotasViewSchema>;
export type QuotaLineBody = Static<typeof QuotaLineSchema>;
export type TierLineBody = Static<typeof TierLineSchema>;

export const TierParams = Type.Object({
  tier: Type.String({ maxLength: 64, description: 'free, standard or premium' }),
});

export const TierEditSchema = Type.Object(
  {
    quotas: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      description: `the tier's edited quotas (replacing any earlier edits; {} restores the defaults): ${QUOTA_NAMES.join(', ')}`,
    }),
  },
  { additionalProperties: false },
);
export type TierEditBody = Static<typeof TierEditSchema>;
