// Signed alert webhooks: subscriptions and queueing (service), sending (dispatcher), signatures.
export { isPrivateAddress } from './address.ts';
export {
  DEFAULT_BACKOFF_SECONDS,
  type DispatcherDeps,
  type DispatcherOptions,
  type DispatchStats,
  WebhookDispatcher,
} from './dispatcher.ts';
export {
  createHttpSender,
  guardedLookup,
  httpSend,
  type Resolve,
  type Sender,
  type SendRequest,
  type SendResult,
} from './sender.ts';
export {
  type AlertBody,
  DEFAULT_MAX_WEBHOOKS,
  WebhookService,
  type WebhookServiceDeps,
  type WebhookServiceOptions,
  webhookUrlProblem,
} from './service.ts';
export {
  computeSignature,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
  verifySignature,
} from './signature.ts';
