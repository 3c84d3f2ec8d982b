// Tenants' webhook subscriptions and the queueing of alerts to them. A subscription's signing secret is
// shown once, then kept only encrypted with the tenant's data key; an alert of one tenant is only ever
// queued for that tenant's own webhooks (every call is scoped). Sending is the dispatcher's job.
import { isIP } from 'node:net';
import type { Clock, Random } from '../../core/clock.ts';
import { AppError, invalid, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { ALERT_EVENTS, type AlertEvent, type AlertPayload } from '../../core/monitoring.ts';
import type { TenantScope } from '../../core/scope.ts';
import { decryptBuffer, encryptBuffer } from '../../store/artifacts/envelope.ts';
import type { Webhook, WebhookDelivery, WebhookRepo } from '../../store/ports.ts';
import type { KeyRing } from '../keyring.ts';
import { isLocalHostname, isPrivateAddress } from './address.ts';

export const MAX_URL_LENGTH = 2048;
export const DEFAULT_MAX_WEBHOOKS = 20;
const SECRET_BYTES = 32;

export interface WebhookLog {
  warn(obj: object, msg: string): void;
}

export interface WebhookServiceDeps {
  repo: WebhookRepo;
  keyring: Pick<KeyRing, 'dataKey'>;
  clock: Clock;
  random: Random;
  log?: WebhookLog;
}

export interface WebhookServiceOptions {
  /**
   * Let webhooks reach loopback, private and link-local addresses. Off by default: in a multitenant
   * platform a tenant must not make the platform call its internal services (SSRF). The composition
   * root sets it from TENANTML_WEBHOOKS_ALLOW_PRIVATE.
   */
  allowPrivate?: boolean;
  /** Webhooks one tenant may hold (default 20). */
  maxPerTenant?: number;
}

/** What an alert carries besides its envelope (ids, figures and reasons; never data values). */
export interface AlertBody {
  model?: string;
  version?: number;
  data: Record<string, unknown>;
}

/** The AAD-bound path of a webhook's encrypted secret: moving it to another webhook or tenant fails. */
const secretPath = (webhookId: string): string => `webhooks/${webhookId}`;

/** A webhook's signing secret in clear, or null when the webhook is gone (the service and dispatcher share it). */
export async function readSecret(
  deps: { repo: Pick<WebhookRepo, 'secret'>; keyring: Pick<KeyRing, 'dataKey'> },
  scope: TenantScope,
  id: string,
): Promise<string | null> {
  const sealed = await deps.repo.secret(scope, id);
  if (!sealed) return null;
  const key = await deps.keyring.dataKey(scope.tenantId);
  return decryptBuffer(key, scope.tenantId, secretPath(id), sealed).toString('utf8');
}

/**
 * Why a webhook URL is refused, or null. Private addresses are refused here only when written literally
 * (or as localhost); a host name is checked again on every connection, against what it resolves to then.
 */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '') return 'must not have a fragment';
  if (url.hostname === '') return 'must name a host';
  if (!allowPrivate) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isLocalHostname(host)) return 'must not point at this machine (localhost)';
    if (isIP(host) !== 0 && isPrivateAddress(host)) {
      return 'must not point at a loopback, private, link-local or reserved address';
    }
  }
  return null;
}

export class WebhookService {
  private readonly allowPrivate: boolean;
  private readonly maxPerTenant: number;
  /** Alerts that could not be queued (emit never throws; this and the log say it happened). */
  emitErrors = 0;

  constructor(
    private readonly deps: WebhookServiceDeps,
    opts: WebhookServiceOptions = {},
  ) {
    this.allowPrivate = opts.allowPrivate ?? false;
    this.maxPerTenant = opts.maxPerTenant ?? DEFAULT_MAX_WEBHOOKS;
  }

  /** Subscribes `url` to `events`; the returned secret is never shown again. */
  async create(
    scope: TenantScope,
    input: { url: string; events: readonly string[] },
  ): Promise<{ webhook: Webhook; secret: string }> {
    const problem = webhookUrlProblem(input.url, this.allowPrivate);
    if (problem) throw invalid('url', problem);
    if (input.events.length === 0) throw invalid('events', 'must name at least one event');
    const events: AlertEvent[] = [];
    for (const [i, e] of input.events.entries()) {
      if (!(ALERT_EVENTS as readonly string[]).includes(e)) {
        throw invalid(`events.${i}`, `unknown event ${JSON.stringify(e)}; one of ${ALERT_EVENTS.join(', ')}`);
      }
      if (!events.includes(e as AlertEvent)) events.push(e as AlertEvent);
    }
    // Checked before the insert, so two concurrent creates may both pass at the limit: a bound on
    // fan-out, not an accounting quota, and one over is harmless.
    const existing = await this.deps.repo.list(scope);
    if (existing.length >= this.maxPerTenant) {
      throw new AppError('validation_failed', `a tenant may hold at most ${this.maxPerTenant} webhooks`, {
        errors: [
          {
            field: 'url',
            message: `the tenant already holds ${this.maxPerTenant} webhooks; delete one first`,
          },
        ],
        extra: { limit: this.maxPerTenant },
      });
    }
    const id = newId('wh', this.deps.random);
    const secret = this.deps.random.bytes(SECRET_BYTES).toString('base64url');
    const key = await this.deps.keyring.dataKey(scope.tenantId);
    const sealed = encryptBuffer(key, scope.tenantId, secretPath(id), Buffer.from(secret, 'utf8'));
    const webhook = await this.deps.repo.create(
      scope,
      {
        id,
        tenantId: scope.tenantId,
        url: new URL(input.url).toString(),
        events,
        createdAt: this.deps.clock.now().toISOString(),
        createdBy: scope.actor.keyId,
      },
      sealed,
    );
    return { webhook, secret };
  }

  list(scope: TenantScope): Promise<Webhook[]> {
    return this.deps.repo.list(scope);
  }

  async get(scope: TenantScope, id: string): Promise<Webhook> {
    const w = await this.deps.repo.get(scope, id);
    if (!w) throw notFound(`webhook ${id}`);
    return w;
  }

  async delete(scope: TenantScope, id: string): Promise<void> {
    if (!(await this.deps.repo.delete(scope, id))) throw notFound(`webhook ${id}`);
  }

  /** The newest deliveries of one webhook (404 for another tenant's, like a missing one). */
  async deliveries(scope: TenantScope, id: string, limit = 50): Promise<WebhookDelivery[]> {
    await this.get(scope, id);
    return this.deps.repo.deliveries(scope, id, Math.min(Math.max(limit, 1), 200));
  }

  /** The signing secret in clear. Null when the webhook is gone. */
  secret(scope: TenantScope, id: string): Promise<string | null> {
    return readSecret(this.deps, scope, id);
  }

  /**
   * Queues one delivery of an alert per webhook of this tenant subscribed to `event`, and returns how
   * many. Never throws: an alert must not fail the monitoring cycle or job that raised it.
   */
  async emit(scope: TenantScope, event: AlertEvent, body: AlertBody): Promise<number> {
    try {
      return await this.queue(scope, event, body);
    } catch (err) {
      this.emitErrors++;
      this.deps.log?.warn({ err, tenantId: scope.tenantId, event }, 'webhook alert could not be queued');
      return 0;
    }
  }

  /** Queues a `test` delivery to one webhook, whatever it subscribes to (POST /v1/webhooks/{id}/test). */
  async test(scope: TenantScope, id: string): Promise<WebhookDelivery> {
    const w = await this.get(scope, id);
    const [d] = this.deliveriesFor(scope, [w], 'test', { data: { message: 'a test delivery' } });
    await this.deps.repo.enqueue(scope, [d!]);
    return d!;
  }

  private async queue(scope: TenantScope, event: AlertEvent, body: AlertBody): Promise<number> {
    const targets = (await this.deps.repo.list(scope)).filter(
      (w) => w.tenantId === scope.tenantId && w.events.includes(event),
    );
    if (targets.length === 0) return 0;
    await this.deps.repo.enqueue(scope, this.deliveriesFor(scope, targets, event, body));
    return targets.length;
  }

  /**
   * One payload (one `id`, the receivers' idempotency key) shared by every webhook it goes to; each
   * delivery has its own id, kept across its retries.
   */
  private deliveriesFor(
    scope: TenantScope,
    targets: Webhook[],
    event: AlertEvent | 'test',
    body: AlertBody,
  ): WebhookDelivery[] {
    const at = this.deps.clock.now().toISOString();
    const payload: AlertPayload = {
      id: newId('evt', this.deps.random, 16),
      // 'test' is ours alone (never a subscribable alert): the payload type stays AlertPayload.
      event: event as AlertEvent,
      tenantId: scope.tenantId,
      at,
      ...(body.model !== undefined ? { model: body.model } : {}),
      ...(body.version !== undefined ? { version: body.version } : {}),
      data: body.data,
    };
    return targets.map((w) => ({
      id: newId('whd', this.deps.random, 16),
      tenantId: scope.tenantId,
      webhookId: w.id,
      event: event as AlertEvent,
      payload,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: at,
      lastStatus: null,
      lastError: null,
      createdAt: at,
      deliveredAt: null,
    }));
  }
}
