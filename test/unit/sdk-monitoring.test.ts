// The SDK's monitoring and webhook calls against a tiny real HTTP server (what goes on the wire and how
// answers are read), and the browser-safe signature verifier against the server's own signatures.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  parseSignatureHeader,
  TenantmlClient,
  TenantmlError,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from '../../src/sdk/index.ts';
import {
  computeSignature,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
  verifySignature,
} from '../../src/services/webhooks/signature.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Reply = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let reply: Reply;

const json =
  (status: number, body: unknown): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
const noContent: Reply = (_req, res) => {
  res.writeHead(204);
  res.end();
};

before(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    seen.push(s);
    reply(s, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  reply = json(200, {});
});

const operator = () => new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });

describe('monitoring calls', () => {
  test('feedback: one label is sent as itself, a list as {items}; X-Tenant-Id for the operator', async () => {
    reply = json(202, { accepted: 1, duplicates: 0 });
    const client = operator();
    const one = await client.models.feedback('churn', { predictionId: 'req_1.0', label: 'yes' });
    assert.deepEqual(one, { accepted: 1, duplicates: 0 });
    reply = json(202, { accepted: 2, duplicates: 1 });
    const many = await client.models.feedback('churn', [
      { predictionId: 'req_1.0', label: 'yes' },
      { predictionId: 'req_1.1', label: 3.5 },
      { predictionId: 'req_1.2', label: false },
    ]);
    assert.deepEqual(many, { accepted: 2, duplicates: 1 });
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers['x-tenant-id'], s.headers['content-type']]),
      [
        ['POST', '/v1/models/churn/feedback', 'acme', 'application/json'],
        ['POST', '/v1/models/churn/feedback', 'acme', 'application/json'],
      ],
    );
    assert.deepEqual(JSON.parse(seen[0].body), { predictionId: 'req_1.0', label: 'yes' });
    assert.deepEqual(JSON.parse(seen[1].body), {
      items: [
        { predictionId: 'req_1.0', label: 'yes' },
        { predictionId: 'req_1.1', label: 3.5 },
        { predictionId: 'req_1.2', label: false },
      ],
    });
  });

  test('monitoring: the query carries only the filters given; the answer is read as is', async () => {
    const view = { model: 'churn', liveVersion: 2, windows: [] };
    reply = json(200, view);
    const client = operator();
    assert.deepEqual(await client.models.monitoring('churn'), view);
    await client.models.monitoring('a b', {
      granularity: 'day',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02',
      version: 2,
      limit: 10,
    });
    assert.equal(seen[0].url, '/v1/models/churn/monitoring');
    const url = new URL(seen[1].url, baseUrl);
    assert.equal(url.pathname, '/v1/models/a%20b/monitoring');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      granularity: 'day',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02',
      version: '2',
      limit: '10',
    });
  });

  test('policy get, put (the whole policy as the body) and delete (204)', async () => {
    const stored = {
      model: 'churn',
      policy: { onDrift: true, schedule: '0 3 * * 1' },
      lastFiredAt: null,
      lastTrigger: null,
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const client = operator();
    reply = json(200, stored);
    assert.deepEqual(
      await client.models.policy.put('churn', { onDrift: true, schedule: '0 3 * * 1' }),
      stored,
    );
    assert.deepEqual(await client.models.policy.get('churn'), stored);
    reply = noContent;
    assert.equal(await client.models.policy.delete('churn'), undefined);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.headers['x-tenant-id']]),
      [
        ['PUT', '/v1/models/churn/policy', 'acme'],
        ['GET', '/v1/models/churn/policy', 'acme'],
        ['DELETE', '/v1/models/churn/policy', 'acme'],
      ],
    );
    assert.deepEqual(JSON.parse(seen[0].body), { onDrift: true, schedule: '0 3 * * 1' });
    assert.equal(seen[1].body, '');
  });

  test('a refused policy is a TenantmlError naming the field', async () => {
    reply = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Validation failed',
          status: 400,
          code: 'validation_failed',
          detail: "schedule: minute: '61' is outside 0-59",
          errors: [{ field: 'schedule', message: "minute: '61' is outside 0-59" }],
        }),
      );
    };
    const err = await operator()
      .models.policy.put('churn', { schedule: '61 * * * *' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'validation_failed');
    assert.deepEqual(
      err.errors.map((e) => e.field),
      ['schedule'],
    );
  });
});

describe('webhook calls', () => {
  const hook = {
    id: 'wh_1',
    url: 'https://hooks.example.com/x',
    events: ['drift'],
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'key_1',
  };
  const delivery = {
    id: 'whd_1',
    webhookId: 'wh_1',
    event: 'test',
    state: 'pending',
    attempts: 0,
    nextAttemptAt: '2026-01-01T00:00:00.000Z',
    lastStatus: null,
    lastError: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    deliveredAt: null,
    payload: { id: 'evt_1', event: 'test', tenantId: 'acme', at: '2026-01-01T00:00:00.000Z', data: {} },
  };

  test('create, list, get, delete, deliveries and test on the wire', async () => {
    const client = operator();
    reply = json(201, { ...hook, secret: 's3cret' });
    const created = await client.webhooks.create({ url: hook.url, events: ['drift', 'promotion'] });
    assert.equal(created.secret, 's3cret');
    reply = json(200, { webhooks: [hook] });
    assert.deepEqual(await client.webhooks.list(), [hook]);
    reply = json(200, hook);
    assert.deepEqual(await client.webhooks.get('wh_1'), hook);
    reply = json(200, { deliveries: [delivery] });
    assert.deepEqual(await client.webhooks.deliveries('wh_1'), [delivery]);
    await client.webhooks.deliveries('wh/1', { limit: 5 });
    reply = json(202, delivery);
    assert.deepEqual(await client.webhooks.test('wh_1'), delivery);
    reply = noContent;
    assert.equal(await client.webhooks.delete('wh_1'), undefined);

    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      [
        'POST /v1/webhooks',
        'GET /v1/webhooks',
        'GET /v1/webhooks/wh_1',
        'GET /v1/webhooks/wh_1/deliveries',
        'GET /v1/webhooks/wh%2F1/deliveries?limit=5',
        'POST /v1/webhooks/wh_1/test',
        'DELETE /v1/webhooks/wh_1',
      ],
    );
    // Webhooks belong to a tenant: the operator's tenant travels on every call.
    for (const s of seen) assert.equal(s.headers['x-tenant-id'], 'acme', s.url);
    assert.deepEqual(JSON.parse(seen[0].body), { url: hook.url, events: ['drift', 'promotion'] });
  });

  test('a tenant key sends no tenant header', async () => {
    reply = json(200, { webhooks: [] });
    await new TenantmlClient({ baseUrl, apiKey: 'tenant-admin' }).webhooks.list();
    assert.equal(seen[0].headers['x-tenant-id'], undefined);
    assert.equal(seen[0].headers.authorization, 'Bearer tenant-admin');
  });
});

describe('verifyWebhookSignature (WebCrypto) against the server’s signatures', () => {
  const secret = 'Zq3n0x_secret-of-43-characters-base64url-abc';
  const body = JSON.stringify({ id: 'evt_1', event: 'drift', tenantId: 'acme', data: { note: 'é ✓' } });
  const t = 1_767_225_600;
  const now = new Date(t * 1000 + 10_000);

  test('the header names are the dispatcher’s', () => {
    assert.deepEqual(WEBHOOK_HEADERS, {
      signature: SIGNATURE_HEADER,
      event: EVENT_HEADER,
      delivery: DELIVERY_HEADER,
    });
  });

  test('a signature the server made verifies, from text, bytes or an ArrayBuffer', async () => {
    const header = signatureHeader(secret, t, body);
    const bytes = new TextEncoder().encode(body);
    assert.equal(await verifyWebhookSignature(secret, header, body, { now }), true);
    assert.equal(await verifyWebhookSignature(secret, header, bytes, { now }), true);
    assert.equal(await verifyWebhookSignature(secret, header, bytes.slice().buffer, { now }), true);
    // And the server's own verifier agrees on the same inputs.
    assert.equal(verifySignature(secret, header, body, 300, now), true);
  });

  test('a changed body, another secret, or a changed time is refused', async () => {
    const header = signatureHeader(secret, t, body);
    assert.equal(
      await verifyWebhookSignature(secret, header, body.replace('drift', 'drifT'), { now }),
      false,
    );
    assert.equal(await verifyWebhookSignature(`${secret}x`, header, body, { now }), false);
    const otherT = header.replace(`t=${t}`, `t=${t + 1}`);
    assert.equal(await verifyWebhookSignature(secret, otherT, body, { now }), false);
    // Whitespace around the body is part of what was signed.
    assert.equal(await verifyWebhookSignature(secret, header, `${body}\n`, { now }), false);
  });

  test('replays: outside the tolerance either way is refused; the tolerance is settable', async () => {
    const header = signatureHeader(secret, t, body);
    const at = (s: number) => new Date((t + s) * 1000);
    assert.equal(await verifyWebhookSignature(secret, header, body, { now: at(300) }), true);
    assert.equal(await verifyWebhookSignature(secret, header, body, { now: at(301) }), false);
    assert.equal(await verifyWebhookSignature(secret, header, body, { now: at(-301) }), false);
    assert.equal(
      await verifyWebhookSignature(secret, header, body, { now: at(3600), toleranceSeconds: 3600 }),
      true,
    );
    // Without `now`, the current time: a signature made now verifies, one from 2026-01-01 does not.
    const fresh = signatureHeader(secret, Math.floor(Date.now() / 1000), body);
    assert.equal(await verifyWebhookSignature(secret, fresh, body), true);
    assert.equal(await verifyWebhookSignature(secret, header, body, { now: new Date(2030, 0, 1) }), false);
  });

  test('several v1 entries (secret rotation): any one matching is enough', async () => {
    const good = computeSignature(secret, t, body);
    const other = computeSignature('old-secret', t, body);
    for (const header of [`t=${t},v1=${other},v1=${good}`, ` t=${t} , v1=${good} ,v1=${other}`]) {
      assert.equal(await verifyWebhookSignature(secret, header, body, { now }), true, header);
    }
    assert.equal(await verifyWebhookSignature(secret, `t=${t},v1=${other}`, body, { now }), false);
  });

  test('malformed headers are refused, never thrown on', async () => {
    const good = computeSignature(secret, t, body);
    const bad: (string | null | undefined)[] = [
      undefined,
      null,
      '',
      `v1=${good}`,
      `t=${t}`,
      `t=abc,v1=${good}`,
      `t=${t},v1=${good.toUpperCase()}`,
      `t=${t},v1=${good.slice(0, 63)}`,
      `t=${t},v0=${good}`,
      `t=${t},v1=${good}${','.repeat(4096)}`,
    ];
    for (const h of bad) {
      assert.equal(await verifyWebhookSignature(secret, h, body, { now }), false, String(h));
      assert.equal(verifySignature(secret, h, body, 300, now), false, `server: ${h}`);
    }
    assert.equal(await verifyWebhookSignature('', `t=${t},v1=${good}`, body, { now }), false);
  });

  test('parseSignatureHeader reads t and every well-formed v1', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    assert.deepEqual(parseSignatureHeader(`t=12,v1=${a},x=1,v1=${b}`), { t: 12, v1: [a, b] });
    assert.equal(parseSignatureHeader(`v1=${a}`), null);
  });
});
