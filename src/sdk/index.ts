// The SDK's public surface; runs in Node 20+ and in browsers. File helpers are in `./node.ts`.
export type {
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
  TenantCreate,
  TenantDetailView,
  TenantPatchBody,
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
export type { AuditListOptions } from './resources/audit.ts';
export { UPLOAD_TIMEOUT_MS, type UploadOptions } from './resources/datasets.ts';
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
export { ROUTES, type Route, type RouteScope } from './routes.ts';
export { type ByteSource, parseSse, type SseMessage } from './sse.ts';
export {
  type CallOptions,
  DEFAULT_TIMEOUT_MS,
  type FetchLike,
  type StreamInitFor,
  Transport,
} from './transport.ts';
