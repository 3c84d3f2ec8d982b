// Deliveries end to end on SQLite and PostgreSQL: real receivers on local HTTP servers get signed alerts;
// failing ones are retried on the backoff schedule (manual clock) until `failed`; one tenant's alerts
// never reach another tenant's receiver; private addresses are refused at connection time.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { cryptoRandom } from '../../../src/core/clock.ts';
import { createHttpSender } from '../../../src/services/webhooks/sender.ts';
import { WebhookService } from '../../../src/services/webhooks/service.ts';
import { verifySignature } from '../../../src/services/webhooks/signature.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { createHarness, type Harness, type Receiver, startReceiver } from './harness.ts';

for (const kind of STORE_KINDS) {
  describe(`webhook deliveries (${kind})`, () => {
    let h: Harness;
    const receivers: Receiver[] = [];
    const receiver = async (respond?: Receiver['respond']) => {
      const r = await startReceiver(respond);
      receivers.push(r);
      return r;
    };
    let n = 0;
    const tenant = () => h.addTenant(`${kind.slice(0, 2)}-t${++n}`);

    before(async () => {
      h = await createHarness(kind);
    });
    afterEach(async () => {
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    });
    after(() => h.cleanup());

    test('a receiver gets the alert, signed with its secret, with the event and delivery headers', async () => {
      const scope = await tenant();
      const rx = await receiver();
      const { webhook, secret } = await h.service.create(scope, {
        url: rx.url,
        events: ['drift', 'promotion'],
      });
      const queued = await h.service.emit(scope, 'drift', {
        model: 'churn',
        version: 3,
        data: { driftedShare: 0.6 },
      });
      assert.equal(queued, 1);
      assert.equal(await h.service.emit(scope, 'job_failed', { data: {} }), 0, 'not subscribed');

      const stats = await h.dispatcher().runOnce();
      assert.deepEqual(stats, { sent: 1, failed: 0, retried: 0 });
      assert.equal(rx.received.length, 1);
      const got = rx.received[0]!;
      const payload = JSON.parse(got.body);
      assert.equal(payload.event, 'drift');
      assert.equal(payload.tenantId, scope.tenantId);
      assert.equal(payload.model, 'churn');
      assert.equal(payload.version, 3);
      assert.deepEqual(payload.data, { driftedShare: 0.6 });
      assert.match(payload.id, /^evt_/);
      assert.equal(got.headers['tenantml-event'], 'drift');
      assert.equal(got.headers['content-type'], 'application/json');
      const sig = got.headers['tenantml-signature'] as string;
      assert.equal(verifySignature(secret, sig, got.body, 300, h.clock.now()), true);
      assert.equal(verifySignature(secret, sig, got.body.replace('0.6', '0.7'), 300, h.clock.now()), false);

      const [d] = await h.service.deliveries(scope, webhook.id);
      assert.equal(got.headers['tenantml-delivery'], d!.id);
      assert.equal(d!.state, 'delivered');
      assert.equal(d!.attempts, 1);
      assert.equal(d!.lastStatus, 200);
      assert.equal(d!.deliveredAt, h.clock.now().toISOString());
      assert.equal(d!.payload.id, payload.id);
      // Nothing is due any more.
      assert.deepEqual(await h.dispatcher().runOnce(), { sent: 0, failed: 0, retried: 0 });
    });

    test("another tenant's secret does not verify its deliveries", async () => {
      const a = await tenant();
      const b = await tenant();
      const rx = await receiver();
      await h.service.create(a, { url: rx.url, events: ['promotion'] });
      const other = await h.service.create(b, { url: `${rx.url}-b`, events: ['job_failed'] });
      await h.service.emit(a, 'promotion', { model: 'm', version: 2, data: {} });
      await h.dispatcher().runOnce();
      const got = rx.received[0]!;
      assert.equal(
        verifySignature(
          other.secret,
          got.headers['tenantml-signature'] as string,
          got.body,
          300,
          h.clock.now(),
        ),
        false,
      );
    });

    test('the secret is stored encrypted, bound to its tenant and webhook', async () => {
      const scope = await tenant();
      const { webhook, secret } = await h.service.create(scope, {
        url: 'http://127.0.0.1:9/x',
        events: ['drift'],
      });
      const sealed = await h.ts.store.webhooks.secret(scope, webhook.id);
      assert.ok(sealed);
      assert.equal(sealed.includes(Buffer.from(secret)), false);
      assert.equal(Buffer.from(secret, 'base64url').length, 32);
      assert.equal(await h.service.secret(scope, webhook.id), secret);
    });

    test('a failing receiver (500, then a timeout) is retried with backoff and ends failed', async () => {
      const scope = await tenant();
      const rx = await receiver((i) => (i === 2 ? 'hang' : 500));
      const { webhook } = await h.service.create(scope, { url: rx.url, events: ['job_failed'] });
      await h.service.emit(scope, 'job_failed', { data: { jobId: 'job_1' } });
      const dispatcher = h.dispatcher(
        { backoffSeconds: [30, 120], maxAttempts: 3, timeoutMs: 300 },
        () => 0.5,
      );
      const state = async () => (await h.service.deliveries(scope, webhook.id))[0]!;

      assert.deepEqual(await dispatcher.runOnce(), { sent: 0, failed: 0, retried: 1 });
      let d = await state();
      assert.equal(d.state, 'pending');
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatus, 500);
      assert.equal(d.lastError, 'HTTP 500');
      // 30 s stretched by jitter 0.2 × random 0.5 = 33 s.
      assert.equal(d.nextAttemptAt, new Date(Date.parse(h.clock.now().toISOString()) + 33_000).toISOString());

      h.clock.advance(32_000);
      assert.deepEqual(
        await dispatcher.runOnce(),
        { sent: 0, failed: 0, retried: 0 },
        'not due before backoff',
      );
      h.clock.advance(1_000);
      assert.deepEqual(await dispatcher.runOnce(), { sent: 0, failed: 0, retried: 1 });
      d = await state();
      assert.equal(d.attempts, 2);
      assert.equal(d.lastStatus, null);
      assert.equal(d.lastError, 'timed out after 300 ms');
      assert.equal(d.nextAttemptAt, new Date(h.clock.now().getTime() + 132_000).toISOString());

      h.clock.advance(132_000);
      assert.deepEqual(await dispatcher.runOnce(), { sent: 0, failed: 1, retried: 0 });
      d = await state();
      assert.equal(d.state, 'failed');
      assert.equal(d.attempts, 3);
      assert.equal(d.nextAttemptAt, null);
      assert.equal(d.deliveredAt, null);
      assert.equal(rx.received.length, 3);
      // Every attempt carried the same delivery id and body (receivers dedupe on the payload id).
      assert.equal(new Set(rx.received.map((r) => r.headers['tenantml-delivery'])).size, 1);
      assert.equal(new Set(rx.received.map((r) => r.body)).size, 1);
      h.clock.advance(86_400_000);
      assert.deepEqual(await dispatcher.runOnce(), { sent: 0, failed: 0, retried: 0 }, 'failed is final');
      assert.ok(!JSON.stringify(await state()).includes('receiver text'), 'response bodies are not stored');
    });

    test('a redirect is not followed', async () => {
      const scope = await tenant();
      const rx = await receiver(() => 302);
      const { webhook } = await h.service.create(scope, { url: rx.url, events: ['drift'] });
      await h.service.emit(scope, 'drift', { data: {} });
      assert.deepEqual(await h.dispatcher().runOnce(), { sent: 0, failed: 0, retried: 1 });
      const [d] = await h.service.deliveries(scope, webhook.id);
      assert.equal(d!.lastError, 'redirect not followed (HTTP 302)');
      assert.equal(rx.received.length, 1);
    });

    test("a tenant's alerts reach only its own webhooks", async () => {
      const a = await tenant();
      const b = await tenant();
      const rxA = await receiver();
      const rxB = await receiver();
      await h.service.create(a, { url: rxA.url, events: ['drift'] });
      await h.service.create(b, { url: rxB.url, events: ['drift'] });
      assert.equal(await h.service.emit(a, 'drift', { model: 'a-model', data: {} }), 1);
      assert.equal(await h.service.emit(a, 'drift', { model: 'a-model-2', data: {} }), 1);
      assert.equal(await h.service.emit(b, 'drift', { model: 'b-model', data: {} }), 1);
      assert.deepEqual(await h.dispatcher().runOnce(), { sent: 3, failed: 0, retried: 0 });
      assert.deepEqual(rxA.received.map((r) => JSON.parse(r.body).model).sort(), ['a-model', 'a-model-2']);
      assert.deepEqual(
        rxB.received.map((r) => JSON.parse(r.body).model),
        ['b-model'],
      );
      for (const r of rxA.received) assert.equal(JSON.parse(r.body).tenantId, a.tenantId);
      for (const r of rxB.received) assert.equal(JSON.parse(r.body).tenantId, b.tenantId);
    });

    test('two dispatchers running at once send each delivery once', async () => {
      const scope = await tenant();
      const rx = await receiver();
      await h.service.create(scope, { url: rx.url, events: ['promotion'] });
      for (let i = 0; i < 6; i++) await h.service.emit(scope, 'promotion', { data: { i } });
      const [s1, s2] = await Promise.all([
        h.dispatcher({ batch: 4 }).runOnce(),
        h.dispatcher({ batch: 4 }).runOnce(),
      ]);
      const more = await h.dispatcher().runOnce();
      assert.equal(s1.sent + s2.sent + more.sent, 6);
      assert.equal(rx.received.length, 6);
      assert.equal(new Set(rx.received.map((r) => r.headers['tenantml-delivery'])).size, 6);
    });

    test('private addresses are refused at connection time, whatever the name resolved to', async () => {
      const scope = await tenant();
      const rx = await receiver();
      const byName = rx.url.replace('127.0.0.1', 'localhost');
      const w1 = await h.service.create(scope, { url: rx.url, events: ['drift'] });
      const w2 = await h.service.create(scope, { url: byName, events: ['drift'] });
      await h.service.emit(scope, 'drift', { data: {} });
      const strict = h.dispatcher({ allowPrivate: false });
      assert.deepEqual(await strict.runOnce(), { sent: 0, failed: 0, retried: 2 });
      assert.equal(rx.received.length, 0);
      const [d1] = await h.service.deliveries(scope, w1.webhook.id);
      const [d2] = await h.service.deliveries(scope, w2.webhook.id);
      assert.match(d1!.lastError!, /private/);
      assert.match(d2!.lastError!, /private/);
    });

    test('a public-looking name that resolves to a private address is refused when connecting', async () => {
      const scope = await tenant();
      const rx = await receiver();
      // Created under the strict rule: the name is not an address, so only the connection can tell.
      const strictService = new WebhookService(
        { repo: h.ts.store.webhooks, keyring: h.keyring, clock: h.clock, random: cryptoRandom },
        { allowPrivate: false },
      );
      const url = rx.url.replace('127.0.0.1', 'hooks.rebound.example');
      const { webhook } = await strictService.create(scope, { url, events: ['drift'] });
      const resolved: string[] = [];
      const send = createHttpSender({
        resolve: (name, cb) => {
          resolved.push(name);
          cb(null, [{ address: '127.0.0.1', family: 4 }]);
        },
      });
      await h.service.emit(scope, 'drift', { data: {} });
      assert.deepEqual(await h.dispatcher({ allowPrivate: false }, () => 0, send).runOnce(), {
        sent: 0,
        failed: 0,
        retried: 1,
      });
      assert.deepEqual(resolved, ['hooks.rebound.example']);
      assert.equal(rx.received.length, 0);
      const [d] = await h.service.deliveries(scope, webhook.id);
      assert.equal(d!.lastError, 'refused: the host resolves to a private address');
      // The same name and resolver reach the receiver once private addresses are allowed.
      h.clock.advance(3_600_000);
      assert.equal((await h.dispatcher({ allowPrivate: true }, () => 0, send).runOnce()).sent, 1);
      assert.equal(rx.received.length, 1);
      assert.equal(rx.received[0]!.headers.host, `hooks.rebound.example:${new URL(rx.url).port}`);
    });

    test('a webhook deleted after queueing takes its deliveries with it', async () => {
      const scope = await tenant();
      const rx = await receiver();
      const { webhook } = await h.service.create(scope, { url: rx.url, events: ['drift'] });
      await h.service.emit(scope, 'drift', { data: {} });
      await h.service.delete(scope, webhook.id);
      assert.deepEqual(await h.dispatcher().runOnce(), { sent: 0, failed: 0, retried: 0 });
      assert.equal(rx.received.length, 0);
    });

    test('emit never throws: a failing store is logged and counted', async () => {
      const warnings: string[] = [];
      const broken = new WebhookService({
        repo: { ...h.ts.store.webhooks, list: async () => Promise.reject(new Error('database down')) },
        keyring: h.keyring,
        clock: h.clock,
        random: { bytes: (k: number) => Buffer.alloc(k, 1) },
        log: { warn: (_o, m) => warnings.push(m) },
      });
      assert.equal(await broken.emit(await tenant(), 'drift', { data: {} }), 0);
      assert.equal(broken.emitErrors, 1);
      assert.equal(warnings.length, 1);
    });
  });
}
