// The SDK's public surface; runs in Node 20+ and in browsers. File helpers are in `./node.ts`.
export type { PredictResponse } from '../api/inference-schemas.ts';
export type {
  AdviceView,
  AuditEntryView,
  AuditList,
  DatasetDetail,
  DatasetSummary,
  DatasetVersionView,
  JobView,
  KeyCreated,
  KeyInfo,
  ModelDetailView,
  ModelSummaryView,
  ModelVersionView,
  Problem,
  ProvenanceRecordView,
  TenantCreate,
  TenantDetailView,
  TenantPatchBody,
  TenantProvenanceView,
  TenantView,
  TrainRequest,
} from '../api/schemas.ts';
export {
  CONTENT_TYPES,
  DATASET_FORMATS,
  type DatasetFormat,
  defaultFormat,
  formatFromFileName,
  sniffFormat,
  type UploadBody,
} from './body.ts';
export { type Health, TenantmlClient, type TenantmlClientOptions } from './client.ts';
export {
  type ClientErrorCode,
  type FieldError,
  isTenantmlError,
  type ProblemBody,
  TenantmlError,
  type TenantmlErrorCode,
} from './errors.ts';
export type { PollWaitOptions } from './poll.ts';
export type { AuditListOptions } from './resources/audit.ts';
export type { BudgetPutBody, BudgetViewBody } from './resources/budget.ts';
export { UPLOAD_TIMEOUT_MS, type UploadOptions } from './resources/datasets.ts';
export type {
  V2Health,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadata,
} from './resources/inference.ts';
export {
  EVENTS_IDLE_TIMEOUT_MS,
  FINAL_JOB_STATES,
  isFinalJobState,
  type JobEventsOptions,
  type JobListOptions,
  type JobState,
  type JobStreamEvent,
  type JobWaitOptions,
} from './resources/jobs.ts';
export type { KeyRole } from './resources/keys.ts';
export type { AdviceWaitOptions, AdviseRequest, PredictInstances } from './resources/models.ts';
export {
  type FeedbackBody,
  type FeedbackItem,
  type FeedbackResponse,
  MAX_FEEDBACK_ITEMS,
  type MonitoringOptions,
  type MonitoringView,
  type PolicyView,
  type RetrainPolicy,
  type WindowView,
} from './resources/monitoring.ts';
export {
  isTenantProvenance,
  type ProvenanceAnswer,
  type TenantDataHolders,
} from './resources/provenance.ts';
export type {
  QuotaLineBody,
  QuotasViewBody,
  TierEditBody,
  TierLineBody,
} from './resources/quotas.ts';
export {
  type Audience,
  type ImportRequest,
  type ImportSpec,
  type OnnxBytes,
  type SharedJobWaitOptions,
  type SharedTrainRequest,
  toBase64,
} from './resources/shared.ts';
export type { UsageQuery, UsageReport } from './resources/usage.ts';
export type {
  AlertEvent,
  DeliveryListOptions,
  WebhookCreateBody,
  WebhookCreatedView,
  WebhookDeliveryView,
  WebhookView,
} from './resources/webhooks.ts';
export { ROUTES, type Route, type RouteScope } from './routes.ts';
export { type ByteSource, parseSse, type SseMessage } from './sse.ts';
export {
  type CallOptions,
  DEFAULT_TIMEOUT_MS,
  type FetchLike,
  type StreamInitFor,
  Transport,
} from './transport.ts';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  parseSignatureHeader,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from './webhook-signature.ts';
