// Sends due webhook deliveries: claims them from the store with a lease (so several workers never send
// the same one at once), signs each, POSTs it, and records the outcome — delivered on 2xx, otherwise
// retried with exponential backoff and jitter until the last attempt, then failed.
import type { Clock } from '../../core/clock.ts';
import { isAppError } from '../../core/errors.ts';
import { mintTenantScope, SYSTEM } from '../../core/scope.ts';
import type { WebhookDelivery, WebhookRepo } from '../../store/ports.ts';
import type { KeyRing } from '../keyring.ts';
import { httpSend, type Sender } from './sender.ts';
import { readSecret, type WebhookLog } from './service.ts';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.ts';

/** Seconds before the 2nd, 3rd, … attempt: 30 s, 2 min, 10 min, 1 h, 6 h. */
export const DEFAULT_BACKOFF_SECONDS = [30, 120, 600, 3600, 21_600] as const;

export interface DispatcherOptions {
  /** Whole-exchange timeout of one POST (default 5000 ms). */
  timeoutMs?: number;
  /** Delay before each retry, in seconds (default DEFAULT_BACKOFF_SECONDS). */
  backoffSeconds?: readonly number[];
  /** Attempts before a delivery is `failed` (default: one more than the backoff steps, 6). */
  maxAttempts?: number;
  /** Each delay is stretched by up to this fraction at random, so retries of one outage spread out (0.2). */
  jitter?: number;
  /** Deliveries claimed per run (default 20) and sent at once (default 5). */
  batch?: number;
  concurrency?: number;
  /** See WebhookServiceOptions.allowPrivate: the same rule, applied at connection time. */
  allowPrivate?: boolean;
}

export interface DispatcherDeps {
  repo: Pick<WebhookRepo, 'claimDue' | 'record' | 'get' | 'secret'>;
  keyring: Pick<KeyRing, 'dataKey'>;
  clock: Clock;
  /** Uniform in [0, 1), for the jitter. */
  random: () => number;
  log?: WebhookLog;
  /** The HTTP client (default: node:http(s), see sender.ts). */
  send?: Sender;
}

export interface DispatchStats {
  sent: number;
  failed: number;
  retried: number;
}

type Outcome = keyof DispatchStats;

const MAX_ERROR_LENGTH = 200;

export class WebhookDispatcher {
  private readonly timeoutMs: number;
  private readonly backoff: readonly number[];
  private readonly maxAttempts: number;
  private readonly jitter: number;
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly allowPrivate: boolean;
  private readonly send: Sender;

  constructor(
    private readonly deps: DispatcherDeps,
    opts: DispatcherOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.backoff = opts.backoffSeconds ?? DEFAULT_BACKOFF_SECONDS;
    if (this.backoff.length === 0) throw new Error('backoffSeconds must not be empty');
    this.maxAttempts = opts.maxAttempts ?? this.backoff.length + 1;
    this.jitter = opts.jitter ?? 0.2;
    this.batch = opts.batch ?? 20;
    this.concurrency = Math.max(1, opts.concurrency ?? 5);
    this.allowPrivate = opts.allowPrivate ?? false;
    this.send = deps.send ?? httpSend;
  }

  /**
   * The lease covers the slowest batch (every send timing out) with room to record: a worker that dies
   * mid-batch leaves its deliveries to be claimed again once it expires (receivers dedupe on the id).
   */
  private leaseMs(): number {
    return Math.ceil(this.batch / this.concurrency) * this.timeoutMs + 30_000;
  }

  /** When the attempt after `attempts` failed ones is due. */
  retryAt(attempts: number, now: Date): string {
    const base = this.backoff[Math.min(attempts, this.backoff.length) - 1]!;
    const delayMs = base * 1000 * (1 + this.jitter * this.deps.random());
    return new Date(now.getTime() + Math.round(delayMs)).toISOString();
  }

  async runOnce(): Promise<DispatchStats> {
    const now = this.deps.clock.now();
    const due = await this.deps.repo.claimDue(
      now.toISOString(),
      new Date(now.getTime() + this.leaseMs()).toISOString(),
      this.batch,
    );
    const stats: DispatchStats = { sent: 0, failed: 0, retried: 0 };
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < due.length) {
        const d = due[next++]!;
        stats[await this.deliver(d)]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, lane));
    return stats;
  }

  private async deliver(d: WebhookDelivery): Promise<Outcome> {
    const attempts = d.attempts + 1;
    let status: number | null = null;
    let error: string | null;
    try {
      // The claimed row names its tenant: the webhook and its key are read in that tenant alone.
      const scope = mintTenantScope(d.tenantId, SYSTEM);
      const webhook = await this.deps.repo.get(scope, d.webhookId);
      const secret = webhook ? await readSecret(this.deps, scope, d.webhookId) : null;
      if (!webhook || secret === null)
        return this.finish(d, attempts, 'failed', null, 'the webhook was deleted');
      const body = JSON.stringify(d.payload);
      const t = Math.floor(this.deps.clock.now().getTime() / 1000);
      const result = await this.send({
        url: webhook.url,
        body,
        timeoutMs: this.timeoutMs,
        allowPrivate: this.allowPrivate,
        headers: {
          [SIGNATURE_HEADER]: signatureHeader(secret, t, body),
          [EVENT_HEADER]: d.event,
          [DELIVERY_HEADER]: d.id,
        },
      });
      status = result.status;
      if (status !== null && status >= 200 && status < 300) {
        return this.finish(d, attempts, 'delivered', status, null);
      }
      error =
        status === null
          ? result.error!
          : status >= 300 && status < 400
            ? `redirect not followed (HTTP ${status})`
            : `HTTP ${status}`;
    } catch (err) {
      // A deleted tenant has no key any more: nothing can ever be sent for it.
      if (isAppError(err) && err.code === 'not_found') {
        return this.finish(d, attempts, 'failed', null, 'the tenant was deleted');
      }
      this.deps.log?.warn({ err, deliveryId: d.id }, 'webhook delivery attempt failed');
      error = 'internal error before sending';
    }
    return this.finish(d, attempts, attempts >= this.maxAttempts ? 'failed' : 'pending', status, error);
  }

  private async finish(
    d: WebhookDelivery,
    attempts: number,
    state: WebhookDelivery['state'],
    status: number | null,
    error: string | null,
  ): Promise<Outcome> {
    const now = this.deps.clock.now();
    try {
      await this.deps.repo.record(d.id, {
        state,
        attempts,
        nextAttemptAt: state === 'pending' ? this.retryAt(attempts, now) : null,
        lastStatus: status,
        lastError: error === null ? null : error.slice(0, MAX_ERROR_LENGTH),
        deliveredAt: state === 'delivered' ? now.toISOString() : null,
      });
    } catch (err) {
      // The delivery may have gone with its webhook meanwhile; the lease then simply expires.
      this.deps.log?.warn({ err, deliveryId: d.id }, 'webhook delivery outcome not recorded');
    }
    return state === 'delivered' ? 'sent' : state === 'failed' ? 'failed' : 'retried';
  }
}
