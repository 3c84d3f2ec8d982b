// Request and response schemas of the inference routes (v1 predict, Open Inference Protocol v2): the
// OpenAPI document and the handlers' types come from them. Instances are checked against the model's own
// input schema in the service, so that errors name the instance index and the field.
import { type Static, Type } from 'typebox';

export const PredictBodySchema = Type.Object(
  {
    instances: Type.Array(Type.Unknown(), {
      description: 'One object per prediction: {feature: value}. Every feature present; null when unknown.',
    }),
  },
  { additionalProperties: false },
);

export const PredictionSchema = Type.Object({
  id: Type.String({ description: 'Prediction id, for feedback' }),
  label: Type.Optional(Type.String()),
  probabilities: Type.Optional(Type.Record(Type.String(), Type.Number())),
  value: Type.Optional(Type.Number()),
});

export const PredictResponseSchema = Type.Object({
  id: Type.String({ description: 'Request id' }),
  model: Type.Object({ name: Type.String(), version: Type.Integer(), mode: Type.String() }),
  predictions: Type.Array(PredictionSchema),
});
export type PredictResponse = Static<typeof PredictResponseSchema>;

const V2Data = Type.Array(Type.Unknown());

export const V2TensorSchema = Type.Object({
  name: Type.String(),
  shape: Type.Array(Type.Integer({ minimum: 0 })),
  datatype: Type.String(),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  data: V2Data,
});

export const V2InferRequestSchema = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 128 })),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  inputs: Type.Array(V2TensorSchema, { minItems: 1 }),
  outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String() }, { additionalProperties: true }))),
});
export type V2InferRequest = Static<typeof V2InferRequestSchema>;

export const V2InferResponseSchema = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.String(),
  outputs: Type.Array(V2TensorSchema),
});

const V2TensorMeta = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
});

export const V2ModelMetadataSchema = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(V2TensorMeta),
  outputs: Type.Array(V2TensorMeta),
});

export const V2HealthSchema = Type.Object({
  live: Type.Optional(Type.Boolean()),
  ready: Type.Optional(Type.Boolean()),
});
