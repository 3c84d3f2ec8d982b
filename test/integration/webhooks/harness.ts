// What the webhook tests share: a real store (SQLite or PostgreSQL) with tenants holding real data keys,
// the service and dispatcher over it with a manual clock, and receivers on real local HTTP servers.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cryptoRandom, ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../../src/core/scope.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { type DispatcherOptions, WebhookDispatcher } from '../../../src/services/webhooks/dispatcher.ts';
import type { Sender } from '../../../src/services/webhooks/sender.ts';
import { WebhookService, type WebhookServiceOptions } from '../../../src/services/webhooks/service.ts';
import { createTestStore, type StoreKind, type TestStore } from '../../helpers/stores.ts';

export const T0 = '2026-03-01T12:00:00.000Z';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every request, answers what `respond` says ('hang' never answers). */
export interface Receiver {
  url: string;
  received: Received[];
  respond: (n: number) => number | 'hang';
  close(): Promise<void>;
}

export async function startReceiver(respond: Receiver['respond'] = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = { url: '', received, respond, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = r.respond(received.length);
      if (answer === 'hang') return; // the dispatcher's timeout has to end this one
      res.writeHead(answer, answer >= 300 && answer < 400 ? { location: 'http://127.0.0.1:1/' } : {});
      res.end('receiver text that must never be stored');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}/hook`;
  r.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return r;
}

export interface Harness {
  ts: TestStore;
  clock: ManualClock;
  keyring: KeyRing;
  service: WebhookService;
  scope(tenantId: string): TenantScope;
  addTenant(id: string): Promise<TenantScope>;
  dispatcher(opts?: DispatcherOptions, random?: () => number, send?: Sender): WebhookDispatcher;
  cleanup(): Promise<void>;
}

export async function createHarness(kind: StoreKind, opts: WebhookServiceOptions = {}): Promise<Harness> {
  const ts = await createTestStore(kind);
  const clock = new ManualClock(T0);
  const keyring = new KeyRing(randomBytes(32), ts.store.tenants);
  const service = new WebhookService(
    { repo: ts.store.webhooks, keyring, clock, random: cryptoRandom },
    { allowPrivate: true, ...opts },
  );
  const scope = (tenantId: string) => mintTenantScope(tenantId, { keyId: `tk_${tenantId}`, role: 'admin' });
  return {
    ts,
    clock,
    keyring,
    service,
    scope,
    async addTenant(id) {
      await ts.store.tenants.create(
        {
          id,
          name: `Tenant ${id}`,
          tier: 'free',
          sharedTraining: false,
          quotaOverrides: {},
          wrappedDataKey: keyring.newWrappedKey(id),
        },
        'operator',
        T0,
      );
      return scope(id);
    },
    dispatcher: (dopts = {}, random = () => 0, send?: Sender) =>
      new WebhookDispatcher(
        { repo: ts.store.webhooks, keyring, clock, random, send },
        { allowPrivate: true, timeoutMs: 2000, ...dopts },
      ),
    cleanup: () => ts.cleanup(),
  };
}

export const systemScope = (tenantId: string): TenantScope => mintTenantScope(tenantId, SYSTEM);
