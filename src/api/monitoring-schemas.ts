// Request and response schemas of the monitoring routes (feedback, windows, retraining policy): the
// OpenAPI document and the handlers' types come from them. Bodies are checked field by field in the
// route, so that errors name the item index and the field.
import { type Static, Type } from 'typebox';

const Label = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);
const FeedbackItemSchema = Type.Object({
  predictionId: Type.String({ description: 'The id of one prediction: <request id>.<index>' }),
  label: Label,
});

export const FEEDBACK_BODY =
  '{predictionId, label}, or {items: [{predictionId, label}, …]} with up to 1000 labels: the true class (classification) or value (regression)';
export const POLICY_BODY =
  'RetrainPolicy: onDrift (boolean), onPerformanceDrop (0–1), onNewRows (integer), schedule (five-field cron, UTC), promoteMargin (0–1), cooldownHours';

export const FeedbackBodySchema = Type.Union(
  [FeedbackItemSchema, Type.Object({ items: Type.Array(FeedbackItemSchema, { maxItems: 1000 }) })],
  {
    description:
      'One label, or up to 1000 in `items`. The true class (classification) or value (regression).',
  },
);

export const FeedbackResponseSchema = Type.Object({
  accepted: Type.Integer({ description: 'Labels stored' }),
  duplicates: Type.Integer({
    description: 'Labels for predictions already labelled (the first label is kept)',
  }),
});
export type FeedbackResponse = Static<typeof FeedbackResponseSchema>;

export const MonitoringQuerySchema = Type.Object({
  granularity: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')])),
  from: Type.Optional(Type.String({ description: 'ISO time: windows starting at or after it' })),
  to: Type.Optional(Type.String({ description: 'ISO time: windows starting before it' })),
  // Digits, not integers: query strings are not coerced (coerceTypes: false), so an integer schema would
  // refuse every `?version=2`. The route turns them into numbers.
  version: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,8}$', description: 'a model version' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 168' })),
});
export type MonitoringQuery = Static<typeof MonitoringQuerySchema>;

const FeatureDriftSchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  method: Type.String({ description: 'ks, chi2, wasserstein or jensen_shannon' }),
  statistic: Type.Union([Type.Number(), Type.Null()]),
  pValue: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  threshold: Type.Number(),
  drifted: Type.Boolean(),
  psi: Type.Union([Type.Number(), Type.Null()]),
  missingRate: Type.Union([Type.Number(), Type.Null()]),
  outOfRange: Type.Union([Type.Number(), Type.Null()]),
  unseen: Type.Union([Type.Number(), Type.Null()]),
});

export const WindowViewSchema = Type.Object({
  version: Type.Integer(),
  granularity: Type.String(),
  start: Type.String(),
  rows: Type.Integer(),
  status: Type.String({ description: 'ok, drift, insufficient_data or no_reference' }),
  datasetDrift: Type.Boolean(),
  driftedShare: Type.Number(),
  features: Type.Array(FeatureDriftSchema),
  prediction: Type.Union([FeatureDriftSchema, Type.Null()]),
  performance: Type.Union([
    Type.Object({ metric: Type.String(), value: Type.Number(), n: Type.Integer() }),
    Type.Null(),
  ]),
  performanceDrop: Type.Boolean(),
  reference: Type.Union([Type.Object({ metric: Type.String(), value: Type.Number() }), Type.Null()]),
  updatedAt: Type.String(),
});
export type WindowView = Static<typeof WindowViewSchema>;

export const MonitoringResponseSchema = Type.Object({
  model: Type.String(),
  liveVersion: Type.Union([Type.Integer(), Type.Null()]),
  windows: Type.Array(WindowViewSchema, { description: 'Newest first' }),
});

export const RetrainPolicySchema = Type.Object(
  {
    onDrift: Type.Optional(
      Type.Boolean({ description: "Retrain when a window's dataset drift is detected" }),
    ),
    onPerformanceDrop: Type.Optional(
      Type.Number({
        description:
          'Retrain when feedback is worse than the validation metric by this much (accuracy points, or relative RMSE)',
      }),
    ),
    onNewRows: Type.Optional(
      Type.Integer({ description: 'Retrain when the training dataset has gained this many rows' }),
    ),
    schedule: Type.Optional(Type.String({ description: 'Five-field cron expression, UTC' })),
    promoteMargin: Type.Optional(
      Type.Number({ description: 'How much a challenger must beat the champion by (default 0.005)' }),
    ),
    cooldownHours: Type.Optional(
      Type.Number({ description: 'Fewest hours between two policy-fired jobs (default 6)' }),
    ),
  },
  { description: 'Every trigger optional; none set means the model is only watched' },
);

export const PolicyViewSchema = Type.Object({
  model: Type.String(),
  policy: RetrainPolicySchema,
  lastFiredAt: Type.Union([Type.String(), Type.Null()]),
  lastTrigger: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String(),
});
