// The SDK's public surface; runs in Node 20+ and in browsers. File helpers are in `./node.ts`.
export type {
  AuditEntryView,
  AuditList,
  DatasetDetail,
  DatasetSummary,
  DatasetVersionView,
  KeyCreated,
  KeyInfo,
  Problem,
  TenantCreate,
  TenantDetailView,
  TenantPatchBody,
  TenantView,
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
export type { KeyRole } from './resources/keys.ts';
export { ROUTES, type Route, type RouteScope } from './routes.ts';
export { type CallOptions, DEFAULT_TIMEOUT_MS, type FetchLike, Transport } from './transport.ts';
