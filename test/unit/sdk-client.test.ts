// The SDK against a tiny real HTTP server: what goes on the wire, and how every kind of answer is read.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  formatFromFileName,
  isTenantProvenance,
  sniffFormat,
  TenantmlClient,
  TenantmlError,
  toBase64,
} from '../../src/sdk/index.ts';
import { uploadFile } from '../../src/sdk/node.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Reply = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let reply: Reply;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
};

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const s: Seen = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body: Buffer.concat(chunks),
  };
  seen.push(s);
  reply(s, res);
}

before(async () => {
  server = createServer(handler);
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

const tenant = {
  id: 'acme',
  name: 'Acme',
  tier: 'free',
  sharedTraining: false,
  quotaOverrides: {},
  quotas: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('request building', () => {
  test('JSON body, bearer key, method and path', async () => {
    reply = json(201, tenant);
    const client = new TenantmlClient({ baseUrl: `${baseUrl}/`, apiKey: 'op-key' });
    const created = await client.tenants.create({ id: 'acme', name: 'Acme', sharedTraining: true });
    assert.equal(created.id, 'acme');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/v1/tenants');
    assert.equal(seen[0].headers.authorization, 'Bearer op-key');
    assert.equal(seen[0].headers['content-type'], 'application/json');
    assert.match(String(seen[0].headers.accept), /application\/problem\+json/);
    assert.deepEqual(JSON.parse(seen[0].body.toString()), { id: 'acme', name: 'Acme', sharedTraining: true });
  });

  test('path parameters are percent-encoded and cannot add segments', async () => {
    reply = json(200, { ...tenant, consentHistory: [] });
    const client = new TenantmlClient({ baseUrl, apiKey: 'k' });
    await client.tenants.get('a/../b c');
    assert.equal(seen[0].url, '/v1/tenants/a%2F..%2Fb%20c');
    reply = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    await client.keys.revoke('acme', 'tk_1?x=1');
    assert.equal(seen[1].method, 'DELETE');
    assert.equal(seen[1].url, '/v1/tenants/acme/keys/tk_1%3Fx%3D1');
  });

  test('an empty path parameter is refused before any request', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'k' });
    await assert.rejects(client.datasets.get(''), TypeError);
    assert.equal(seen.length, 0);
  });

  test('X-Tenant-Id goes only on tenant routes', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });
    reply = json(200, { datasets: [] });
    await client.datasets.list();
    reply = json(200, { tenants: [tenant] });
    await client.tenants.list();
    reply = json(200, { entries: [] });
    await client.audit.list();
    assert.equal(seen[0].headers['x-tenant-id'], 'acme');
    assert.equal(seen[1].headers['x-tenant-id'], undefined);
    assert.equal(seen[2].headers['x-tenant-id'], undefined);

    const other = client.withTenant('globex');
    reply = json(200, { datasets: [] });
    await other.datasets.list();
    assert.equal(seen[3].headers['x-tenant-id'], 'globex');
    assert.equal(seen[3].headers.authorization, 'Bearer op');
    assert.equal(client.tenantId, 'acme', 'withTenant leaves the original client alone');
  });

  test('a path prefix in the base URL is kept; no key means no Authorization header', async () => {
    reply = json(200, { status: 'ok' });
    const client = new TenantmlClient({ baseUrl: `${baseUrl}/ml/` });
    assert.deepEqual(await client.health(), { status: 'ok' });
    assert.equal(seen[0].url, '/ml/healthz');
    assert.equal(seen[0].headers.authorization, undefined);
  });

  test('audit query: undefined options are left out, verify only when true', async () => {
    reply = json(200, { entries: [], verified: { ok: true } });
    const client = new TenantmlClient({ baseUrl, apiKey: 'op' });
    const res = await client.audit.list({ limit: 50, after: 10, tenant: 'acme', verify: true });
    assert.deepEqual(res.verified, { ok: true });
    assert.equal(seen[0].url, '/v1/audit?limit=50&after=10&tenant=acme&verify=true');
    await client.audit.list({ verify: false });
    assert.equal(seen[1].url, '/v1/audit');
  });

  test('list methods return the items; keys.create sends the role', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'op' });
    reply = json(200, { keys: [{ id: 'k1' }, { id: 'k2' }] });
    const keys = await client.keys.list('acme');
    assert.deepEqual(
      keys.map((k) => k.id),
      ['k1', 'k2'],
    );
    assert.equal(seen[0].url, '/v1/tenants/acme/keys');
    reply = json(201, { id: 'k3', key: 'secret' });
    const created = await client.keys.create('acme', 'predict');
    assert.equal(created.key, 'secret');
    assert.deepEqual(JSON.parse(seen[1].body.toString()), { role: 'predict' });
  });

  test('update sends PATCH with the patch', async () => {
    reply = json(200, tenant);
    const client = new TenantmlClient({ baseUrl, apiKey: 'op' });
    await client.tenants.update('acme', { tier: 'premium' });
    assert.equal(seen[0].method, 'PATCH');
    assert.deepEqual(JSON.parse(seen[0].body.toString()), { tier: 'premium' });
  });

  test('baseUrl must be http(s)', () => {
    assert.throws(() => new TenantmlClient({ baseUrl: 'localhost:8080' }), TypeError);
  });
});

describe('uploads', () => {
  const version = { name: 'd', version: 1, rows: 2 };

  test('a string body is sent as is, its format sniffed', async () => {
    reply = json(201, version);
    const client = new TenantmlClient({ baseUrl, apiKey: 't' });
    await client.datasets.upload('d', 'a,b\n1,2\n');
    await client.datasets.upload('d', '  [{"a":1}]');
    await client.datasets.upload('d', '{"a":1}\n{"a":2}\n');
    await client.datasets.upload('d', '[{"a":1}]', { format: 'csv' });
    assert.deepEqual(
      seen.map((s) => s.headers['content-type']),
      ['text/csv', 'application/json', 'application/x-ndjson', 'text/csv'],
    );
    assert.equal(seen[0].body.toString(), 'a,b\n1,2\n');
    assert.equal(seen[0].url, '/v1/datasets/d');
  });

  test('bytes, web streams, Node streams and async iterables arrive byte for byte', async () => {
    reply = json(201, version);
    const client = new TenantmlClient({ baseUrl, apiKey: 't' });
    const text = 'x,y\n' + Array.from({ length: 2000 }, (_, i) => `${i},é${i}`).join('\n');
    const bytes = new TextEncoder().encode(text);

    await client.datasets.upload('d', bytes);
    await client.datasets.upload(
      'd',
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.subarray(0, 1000));
          c.enqueue(bytes.subarray(1000));
          c.close();
        },
      }),
    );
    await client.datasets.upload(
      'd',
      Readable.from([Buffer.from(bytes.subarray(0, 7)), Buffer.from(bytes.subarray(7))]),
    );
    async function* gen() {
      for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
    }
    await client.datasets.upload('d', gen(), { format: 'csv' });
    assert.equal(seen.length, 4);
    for (const s of seen) assert.equal(s.body.toString(), text);
    // In-memory bodies have a length; streams go chunked, never buffered first.
    assert.equal(seen[0].headers['content-length'], String(bytes.length));
    for (const s of seen.slice(1)) assert.equal(s.headers['transfer-encoding'], 'chunked');
  });

  test('a Blob is sent with its size; a File names its format', async () => {
    reply = json(201, version);
    const client = new TenantmlClient({ baseUrl, apiKey: 't' });
    await client.datasets.upload('d', new File(['{"a":1}\n', '{"a":2}\n'], 'rows.jsonl'));
    await client.datasets.upload('d', new Blob(['a,b\n1,2\n']));
    assert.deepEqual(
      seen.map((s) => [s.headers['content-type'], s.headers['content-length'], s.body.toString()]),
      [
        ['application/x-ndjson', '16', '{"a":1}\n{"a":2}\n'],
        ['text/csv', '8', 'a,b\n1,2\n'],
      ],
    );
  });

  test('a streamed upload is not held in memory (48 MiB through, far less retained)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const total = 768; // × 64 KiB = 48 MiB
    let sent = 0;
    let peak = 0;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = live();
    async function* source() {
      for (; sent < total; sent++) {
        if (sent % 64 === 0) peak = Math.max(peak, live() - before);
        yield chunk.slice();
      }
    }
    const client = new TenantmlClient({ baseUrl, apiKey: 't' });
    // The shared handler keeps bodies; here the server must drain them, or it would measure itself.
    server.removeAllListeners('request');
    server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
      let n = 0;
      for await (const c of req) n += (c as Buffer).length;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...version, rows: n }));
    });
    try {
      const v = await client.datasets.upload('d', source(), { format: 'csv' });
      assert.equal(v.rows, total * chunk.length);
    } finally {
      server.removeAllListeners('request');
      server.on('request', handler);
    }
    assert.ok(peak < 16 * 1024 * 1024, `retained ${Math.round(peak / 1e6)} MB while streaming 48 MiB`);
  });

  test('uploadFile streams a file, format from its name', async () => {
    reply = json(201, version);
    const dir = await mkdtemp(join(tmpdir(), 'sdk-'));
    try {
      const file = join(dir, 'rows.JSONL');
      await writeFile(file, '{"a":1}\n');
      const client = new TenantmlClient({ baseUrl, apiKey: 't', tenantId: 'acme' });
      const v = await uploadFile(client, 'rows', file);
      assert.equal(v.version, 1);
      assert.equal(seen[0].headers['content-type'], 'application/x-ndjson');
      assert.equal(seen[0].headers['x-tenant-id'], 'acme');
      assert.equal(seen[0].body.toString(), '{"a":1}\n');

      await writeFile(join(dir, 'rows.txt'), 'a\n1\n');
      await assert.rejects(uploadFile(client, 'rows', join(dir, 'rows.txt')), /cannot tell the format/);
      await assert.rejects(uploadFile(client, 'rows', join(dir, 'missing.csv')), { code: 'ENOENT' });
      assert.equal(seen.length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('format helpers', () => {
    assert.equal(formatFromFileName('a/b.CSV'), 'csv');
    assert.equal(formatFromFileName('x.json'), 'json');
    assert.equal(formatFromFileName('x.ndjson'), 'ndjson');
    assert.equal(formatFromFileName('x.jsonl'), 'ndjson');
    assert.equal(formatFromFileName('x.tsv'), undefined);
    assert.equal(sniffFormat(new Uint8Array([0xef, 0xbb, 0xbf, 0x0a, 0x5b])), 'json');
    assert.equal(sniffFormat('\uFEFF{"a":1}'), 'ndjson');
    assert.equal(sniffFormat(''), 'csv');
  });
});

describe('errors', () => {
  const client = () => new TenantmlClient({ baseUrl, apiKey: 'k', timeoutMs: 2000 });

  test('a problem body becomes a TenantmlError with every member', async () => {
    const problem = {
      type: '/problems/dataset_parse_error',
      title: 'The dataset could not be parsed',
      status: 400,
      code: 'dataset_parse_error',
      detail: 'line 3 has 4 cells, the header has 3',
      requestId: 'req-1',
      errors: [
        { field: 'body', message: 'too many cells', line: 3 },
        { field: 'age', message: 'not a number', index: 7 },
      ],
      quota: 'rowsPerDataset',
    };
    reply = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(problem));
    };
    const err = await client()
      .datasets.upload('d', 'a\n1')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'dataset_parse_error');
    assert.equal(err.title, problem.title);
    assert.equal(err.detail, problem.detail);
    assert.equal(err.requestId, 'req-1');
    assert.deepEqual(err.errors, problem.errors);
    assert.equal(err.problem?.quota, 'rowsPerDataset');
    assert.equal(err.message, 'dataset_parse_error: line 3 has 4 cells, the header has 3');
  });

  test('a problem without detail or errors; Retry-After and X-Request-Id headers', async () => {
    reply = json(
      429,
      { type: '/problems/rate_limited', title: 'Too many requests', status: 429, code: 'rate_limited' },
      { 'retry-after': '3', 'x-request-id': 'hdr-9' },
    );
    const err = await client()
      .datasets.list()
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'rate_limited');
    assert.equal(err.detail, 'Too many requests');
    assert.deepEqual(err.errors, []);
    assert.equal(err.retryAfterSeconds, 3);
    assert.equal(err.requestId, 'hdr-9');
  });

  test('an error status without a problem body (a proxy page)', async () => {
    reply = (_req, res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      res.end('<html>\n<body>upstream   down</body></html>');
    };
    const err = await client()
      .tenants.list()
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.status, 502);
    assert.equal(err.code, 'unexpected_response');
    assert.equal(err.detail, 'HTTP 502 Bad Gateway: <html> <body>upstream down</body></html>');
  });

  test('JSON that is not a problem is not mistaken for one', async () => {
    reply = json(500, { message: 'boom' });
    const err = await client()
      .tenants.list()
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'unexpected_response');
    assert.equal(err.status, 500);
  });

  test('a success whose body is not JSON', async () => {
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    };
    const err = await client()
      .tenants.get('acme')
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'invalid_response');
    assert.equal(err.status, 200);
  });

  test('nobody listening: network_error, status 0, with the reason', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await new TenantmlClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' })
      .health()
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'network_error');
    assert.equal(err.status, 0);
    assert.match(err.detail, new RegExp(`could not reach http://127.0.0.1:${port}: ECONNREFUSED`));
  });

  test('no answer in time: timeout; a caller abort rejects with its own reason', async () => {
    reply = () => {}; // never answers
    const slow = new TenantmlClient({ baseUrl, apiKey: 'k', timeoutMs: 150 });
    const err = await slow.health().catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'timeout');
    assert.equal(err.status, 0);

    const ac = new AbortController();
    const pending = slow.health({ signal: ac.signal, timeoutMs: 0 });
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    await assert.rejects(pending, /user gave up/);
  });
});

describe('shared models, provenance, advice and predictions', () => {
  const job = (state: string, extra: Record<string, unknown> = {}) => ({ id: 'job_1', state, ...extra });

  test('base64 without Buffer matches Node’s, at every length around the slice boundary', () => {
    const lengths = [0, 1, 2, 3, 4, 5, 0x6000 - 1, 0x6000, 0x6000 + 1, 0x6000 * 2 + 2];
    for (const n of lengths) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 131 + 7) & 0xff;
      assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'), `length ${n}`);
    }
  });

  test('import sends the bytes base64 in JSON with the spec, never a tenant header', async () => {
    reply = json(201, { model: 'base', version: 1 });
    const client = new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });
    const bytes = new Uint8Array(70_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    const v = await client.shared.import('base', bytes, {
      task: 'binary',
      inputs: [{ name: 'x1' }, { name: 'x2' }],
      classes: ['no', 'yes'],
      publish: 'all',
    });
    assert.equal(v.version, 1);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/v1/shared/models/base/import');
    assert.equal(seen[0].headers['x-tenant-id'], undefined);
    const body = JSON.parse(seen[0].body.toString());
    assert.deepEqual(Object.keys(body).sort(), ['classes', 'inputs', 'onnx', 'publish', 'task']);
    assert.deepEqual(new Uint8Array(Buffer.from(body.onnx, 'base64')), bytes);
    // An ArrayBuffer is the same bytes.
    await client.shared.import('base', bytes.buffer, { task: 'regression', inputs: [{ name: 'x' }] });
    assert.equal(JSON.parse(seen[1].body.toString()).onnx, body.onnx);
  });

  test('download answers the exact bytes; a refusal is still a TenantmlError', async () => {
    const bytes = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff); // every byte value, twice
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from(bytes));
    };
    const client = new TenantmlClient({ baseUrl, apiKey: 'op' });
    const got = await client.shared.download('base', 3);
    assert.ok(got instanceof Uint8Array);
    assert.deepEqual(got, bytes);
    assert.equal(seen[0].url, '/v1/shared/models/base/versions/3/model.onnx');
    assert.match(String(seen[0].headers.accept), /^application\/octet-stream, application\/problem\+json$/);

    reply = json(404, { title: 'Not found', status: 404, code: 'not_found', detail: 'shared model version' });
    await assert.rejects(client.shared.download('base', 9), (e: unknown) => {
      assert.ok(e instanceof TenantmlError);
      assert.equal(e.code, 'not_found');
      return true;
    });
  });

  test('train, list, get, publish, provenance and jobs call their routes', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });
    reply = json(202, job('queued'));
    await client.shared.train('churn', { dataset: 'leads', target: 'label', maxRowsPerTenant: 500 });
    reply = json(200, { models: [{ name: 'churn' }] });
    assert.deepEqual(
      (await client.shared.list()).map((m) => m.name),
      ['churn'],
    );
    reply = json(200, { name: 'churn', versionList: [] });
    await client.shared.get('churn');
    reply = json(200, { name: 'churn', audience: ['acme', 'globex'] });
    const published = await client.shared.publish('churn', ['acme', 'globex']);
    assert.deepEqual(published.audience, ['acme', 'globex']);
    reply = json(200, { provenance: [{ model: 'churn', version: 2 }] });
    assert.equal((await client.shared.provenance('churn', 2))[0].version, 2);
    reply = json(200, { jobs: [job('running')] });
    assert.equal((await client.shared.jobs.list())[0].state, 'running');
    reply = json(200, job('succeeded'));
    assert.equal((await client.shared.jobs.get('job_1')).state, 'succeeded');

    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      [
        'POST /v1/shared/models/churn/train',
        'GET /v1/shared/models',
        'GET /v1/shared/models/churn',
        'PUT /v1/shared/models/churn/audience',
        'GET /v1/shared/models/churn/versions/2/provenance',
        'GET /v1/shared/jobs',
        'GET /v1/shared/jobs/job_1',
      ],
    );
    assert.deepEqual(JSON.parse(seen[0].body.toString()), {
      dataset: 'leads',
      target: 'label',
      maxRowsPerTenant: 500,
    });
    assert.deepEqual(JSON.parse(seen[3].body.toString()), { audience: ['acme', 'globex'] });
    for (const s of seen) assert.equal(s.headers['x-tenant-id'], undefined, s.url);
  });

  test('shared jobs.wait polls until the job is final, reporting each change once', async () => {
    const states = ['queued', 'running', 'running', 'succeeded'];
    let n = 0;
    reply = (_req, res) => json(200, job(states[Math.min(n++, states.length - 1)]))(_req, res);
    const client = new TenantmlClient({ baseUrl, apiKey: 'op' });
    const changes: string[] = [];
    const final = await client.shared.jobs.wait('job_1', {
      pollIntervalMs: 5,
      onJob: (j) => changes.push(j.state),
    });
    assert.equal(final.state, 'succeeded');
    assert.deepEqual(changes, ['queued', 'running', 'succeeded']);
    assert.equal(seen.length, 4);
    for (const s of seen) assert.equal(s.url, '/v1/shared/jobs/job_1');

    reply = json(200, job('running'));
    const err = await client.shared.jobs
      .wait('job_1', { pollIntervalMs: 5, timeoutMs: 60 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'timeout');
    assert.match(err.detail, /shared job job_1 was still running after 60 ms/);
    // A read aborted by the deadline may still reach the server; let it land before the next test.
    await new Promise((r) => setTimeout(r, 50));
  });

  test('provenance: the operator names the tenant in the query; a tenant key asks for itself', async () => {
    const op = new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });
    reply = json(200, { tenant: 'globex', versions: [] });
    const holders = await op.provenance.get('globex');
    assert.equal(isTenantProvenance(holders), false);
    assert.equal(seen[0].url, '/v1/provenance?tenant=globex');
    assert.equal(seen[0].headers['x-tenant-id'], undefined);

    const own = new TenantmlClient({ baseUrl, apiKey: 'tenant-admin' });
    reply = json(200, { tenantId: 'acme', contributions: [], tunedElsewhere: 0, sharedInUse: [] });
    const mine = await own.provenance.get();
    assert.equal(seen[1].url, '/v1/provenance');
    assert.ok(isTenantProvenance(mine));
    assert.equal(mine.tenantId, 'acme');
  });

  test('advise posts the request; waitAdvice polls the list until that advice is no longer running', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'op', tenantId: 'acme' });
    reply = json(202, { id: 'adv_1', state: 'running' });
    const a = await client.models.advise('churn', { dataset: 'leads', target: 'label', autoPromote: true });
    assert.equal(a.id, 'adv_1');
    assert.equal(seen[0].url, '/v1/models/churn/advise');
    assert.equal(seen[0].headers['x-tenant-id'], 'acme');
    assert.deepEqual(JSON.parse(seen[0].body.toString()), {
      dataset: 'leads',
      target: 'label',
      autoPromote: true,
    });

    // Newest first: an older advice is in the list too, and must not be mistaken for ours.
    const older = { id: 'adv_0', state: 'done' };
    const answers = ['running', 'running', 'done'];
    let n = 0;
    reply = (req, res) =>
      json(200, { advice: [{ id: 'adv_1', state: answers[Math.min(n++, 2)] }, older] })(req, res);
    const changes: string[] = [];
    const done = await client.models.waitAdvice('churn', 'adv_1', {
      pollIntervalMs: 5,
      onAdvice: (x) => changes.push(x.state),
    });
    assert.equal(done.state, 'done');
    assert.deepEqual(changes, ['running', 'done']);
    assert.equal(seen[1].url, '/v1/models/churn/advice');

    const missing = await client.models.waitAdvice('churn', 'adv_9', { pollIntervalMs: 5 }).catch((e) => e);
    assert.ok(missing instanceof TenantmlError);
    assert.equal(missing.code, 'not_found');
    assert.match(missing.detail, /no advice adv_9/);
  });

  test('predict sends the instances for the tenant; v2 infer, metadata and health', async () => {
    const client = new TenantmlClient({ baseUrl, apiKey: 'pk', tenantId: 'acme' });
    reply = json(200, {
      id: 'req_1',
      model: { name: 'churn', version: 2, mode: 'tenant' },
      predictions: [{ id: 'req_1.0', label: 'yes', probabilities: { no: 0.2, yes: 0.8 } }],
    });
    const r = await client.models.predict('churn', [{ x1: 1, colour: 'red' }]);
    assert.equal(r.predictions[0].label, 'yes');
    assert.equal(seen[0].url, '/v1/models/churn/predict');
    assert.equal(seen[0].headers['x-tenant-id'], 'acme');
    assert.deepEqual(JSON.parse(seen[0].body.toString()), { instances: [{ x1: 1, colour: 'red' }] });

    reply = json(200, { model_name: 'churn', model_version: '2', id: 'x', outputs: [] });
    await client.v2.infer('churn', { inputs: [{ name: 'x1', shape: [1], datatype: 'FP32', data: [1] }] });
    reply = json(200, {
      name: 'churn',
      versions: ['2'],
      platform: 'onnxruntime_onnx',
      inputs: [],
      outputs: [],
    });
    await client.v2.metadata('churn');
    reply = json(200, { live: true });
    assert.deepEqual(await client.v2.live(), { live: true });
    reply = json(503, { title: 'Unavailable', status: 503, code: 'unavailable' });
    await assert.rejects(client.v2.ready(), { code: 'unavailable' });
    assert.deepEqual(
      seen.slice(1).map((s) => [s.method, s.url, s.headers['x-tenant-id'] ?? null]),
      [
        ['POST', '/v2/models/churn/infer', 'acme'],
        ['GET', '/v2/models/churn', 'acme'],
        ['GET', '/v2/health/live', null],
        ['GET', '/v2/health/ready', null],
      ],
    );
  });
});
