// Job event streams in the SDK against a tiny real HTTP server: the SSE grammar read incrementally
// (lines and characters split across chunks, comments, multi-line data, ids), streams that drop or fall
// silent, and `wait` falling back to polling.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  type JobStreamEvent,
  type JobView,
  parseSse,
  type SseMessage,
  TenantmlClient,
  TenantmlError,
} from '../../src/sdk/index.ts';

let server: Server;
let baseUrl: string;
let handle: (req: IncomingMessage, res: ServerResponse) => void;
let requests: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  requests = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const job = (state: JobView['state'], extra: Partial<JobView> = {}): JobView =>
  ({
    id: 'j1',
    kind: 'train',
    state,
    priority: 0,
    model: 'm',
    spec: {},
    attempts: state === 'queued' ? 0 : 1,
    maxAttempts: 3,
    cancelRequested: false,
    progress: null,
    limits: { timeoutSeconds: 60, cpuSeconds: 60, heapMb: 256 },
    cpuSeconds: 0,
    wallSeconds: 0,
    error: null,
    result: state === 'succeeded' ? { model: 'm', version: 1 } : null,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'k1',
    startedAt: null,
    finishedAt: null,
    ...extra,
  }) as JobView;

/** Sends `chunks` one by one with a pause between them, then ends the response (or destroys it). */
function stream(
  chunks: (string | Buffer)[],
  opts: { pauseMs?: number; finish?: 'end' | 'destroy' | 'hang' } = {},
) {
  const handler = async (_req: IncomingMessage, res: ServerResponse) => {
    res.on('close', () => handler.closed++);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (const c of chunks) {
      if (res.destroyed) return;
      res.write(c);
      await sleep(opts.pauseMs ?? 5);
    }
    if (opts.finish === 'destroy') res.socket?.destroy();
    else if (opts.finish !== 'hang') res.end();
  };
  /** Responses of this handler whose connection closed. */
  handler.closed = 0;
  return handler;
}

const frame = (event: string, data: unknown, id?: number) =>
  `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const client = (opts: { timeoutMs?: number } = {}) =>
  new TenantmlClient({ baseUrl, apiKey: 'k', tenantId: 'acme', ...opts });

async function collect(it: AsyncIterable<JobStreamEvent>): Promise<JobStreamEvent[]> {
  const out: JobStreamEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

async function parseAll(chunks: (string | Uint8Array)[]): Promise<SseMessage[]> {
  async function* source() {
    yield* chunks;
  }
  const out: SseMessage[] = [];
  for await (const m of parseSse(source())) out.push(m);
  return out;
}

describe('parseSse: the event-stream grammar', () => {
  test('every split point of a stream gives the same events', async () => {
    const text =
      '\uFEFFretry: 3000\r\nid: 1\r\nevent: job\r\ndata: {"a":1}\r\n\r\n' +
      ': keep-alive\n\n' +
      'id: 2\nevent: job\ndata: first line\ndata:second line\ndata\n\n' +
      'event: end\rdata: {"é":"ü"}\r\r' +
      'data: tail without blank line';
    const bytes = new TextEncoder().encode(text);
    const expected: SseMessage[] = [
      { event: 'job', data: '{"a":1}', id: '1', retry: 3000 },
      { event: 'job', data: 'first line\nsecond line\n', id: '2' },
      { event: 'end', data: '{"é":"ü"}', id: '2' },
    ];
    assert.deepEqual(await parseAll([bytes]), expected);
    // Two chunks, cut at every byte: inside CRLF pairs, inside multi-byte characters, inside field names.
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = await parseAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(got, expected, `cut at byte ${cut}`);
    }
    // One byte at a time.
    assert.deepEqual(await parseAll([...bytes].map((b) => new Uint8Array([b]))), expected);
  });

  test('an event without data is not dispatched; unknown fields and a bad retry are ignored', async () => {
    const got = await parseAll([
      'event: ping\n\n',
      'foo: bar\nretry: soon\ndata\n\n',
      'data:  two spaces\n\n',
    ]);
    assert.deepEqual(got, [
      { event: 'message', data: '', id: '' },
      { event: 'message', data: ' two spaces', id: '' },
    ]);
  });
});

describe('jobs.events over HTTP', () => {
  test('events split mid-line, with keep-alives and multi-line data, arrive typed and in order', async () => {
    const body =
      frame('job', job('queued'), 1) +
      ': keep-alive\n\n' +
      // Pretty-printed JSON over many data lines: they join with newlines, which JSON allows.
      `id: 2\nevent: job\n${JSON.stringify(
        job('running', { progress: { phase: 'training', iteration: 3, at: 'x' } }),
        null,
        2,
      )
        .split('\n')
        .map((l) => `data: ${l}`)
        .join('\n')}\n\n` +
      frame('job', job('succeeded'), 3) +
      frame('end', { state: 'succeeded', result: { model: 'm', version: 1 }, error: null }, 4);
    const pieces: string[] = [];
    for (let i = 0; i < body.length; i += 17) pieces.push(body.slice(i, i + 17));
    handle = stream(pieces, { pauseMs: 1 });
    const events = await collect(client().jobs.events('j1'));
    assert.deepEqual(
      events.map((e) => (e.type === 'job' ? `job:${e.job.state}` : `end:${e.state}`)),
      ['job:queued', 'job:running', 'job:succeeded', 'end:succeeded'],
    );
    const running = events[1];
    assert.ok(running.type === 'job');
    assert.equal(running.job.progress?.iteration, 3);
    assert.deepEqual(events[3], {
      type: 'end',
      state: 'succeeded',
      result: { model: 'm', version: 1 },
      error: null,
    });
    assert.deepEqual(requests, ['GET /v1/jobs/j1/events']);
  });

  test('the request asks for an event stream with the key and the tenant', async () => {
    let headers: IncomingMessage['headers'] = {};
    handle = (req, res) => {
      headers = req.headers;
      void stream([frame('end', { state: 'failed', error: 'boom' })])(req, res);
    };
    const events = await collect(client().jobs.events('a/b'));
    assert.deepEqual(events, [{ type: 'end', state: 'failed', result: null, error: 'boom' }]);
    assert.equal(headers.accept, 'text/event-stream, application/problem+json');
    assert.equal(headers.authorization, 'Bearer k');
    assert.equal(headers['x-tenant-id'], 'acme');
    assert.deepEqual(requests, ['GET /v1/jobs/a%2Fb/events']);
  });

  test('a stream that drops mid-event, or closes before its end, is stream_interrupted', async () => {
    handle = stream([frame('job', job('running')), 'event: job\ndata: {"id":'], { finish: 'destroy' });
    const seen: JobStreamEvent[] = [];
    const dropped = await (async () => {
      for await (const ev of client().jobs.events('j1')) seen.push(ev);
    })().catch((e: unknown) => e);
    assert.ok(dropped instanceof TenantmlError, String(dropped));
    assert.equal(dropped.code, 'stream_interrupted');
    assert.equal(seen.length, 1, 'the whole event before the drop was delivered');

    handle = stream([frame('job', job('running'))], { finish: 'end' });
    const closed = await collect(client().jobs.events('j1')).catch((e: unknown) => e);
    assert.ok(closed instanceof TenantmlError);
    assert.equal(closed.code, 'stream_interrupted');
    assert.match(closed.detail, /closed before its end event/);
  });

  test('a silent stream is given up after idleTimeoutMs; comments count as life', async () => {
    const silent = stream([': hi\n\n', ': still here\n\n', ': and here\n\n'], {
      pauseMs: 60,
      finish: 'hang',
    });
    handle = silent;
    const started = Date.now();
    const err = await collect(client().jobs.events('j1', { idleTimeoutMs: 120 })).catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'stream_interrupted');
    assert.match(err.detail, /sent nothing for 120 ms/);
    assert.ok(Date.now() - started >= 220, 'the keep-alives reset the idle timer');
    await sleep(20);
    assert.equal(silent.closed, 1, 'the connection was closed');
  });

  test('a refusal before the stream opens is the server problem; an abort rejects with its reason', async () => {
    handle = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({ title: 'Not found', status: 404, code: 'not_found', detail: 'job not found' }),
      );
    };
    const missing = await collect(client().jobs.events('j1')).catch((e: unknown) => e);
    assert.ok(missing instanceof TenantmlError);
    assert.equal(missing.code, 'not_found');

    handle = stream([frame('job', job('running'))], { finish: 'hang' });
    const ac = new AbortController();
    const pending = collect(client().jobs.events('j1', { signal: ac.signal }));
    setTimeout(() => ac.abort(new Error('user left')), 50);
    await assert.rejects(pending, /user left/);
  });

  test('leaving the loop early closes the connection', async () => {
    const open = stream([frame('job', job('queued')), frame('job', job('running'))], { finish: 'hang' });
    handle = open;
    for await (const ev of client().jobs.events('j1')) {
      assert.equal(ev.type, 'job');
      break;
    }
    await sleep(50);
    assert.equal(open.closed, 1);
  });

  test('headers that never come are a timeout', async () => {
    handle = () => {};
    const err = await collect(client({ timeoutMs: 100 }).jobs.events('j1')).catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'timeout');
  });
});

describe('jobs.wait', () => {
  test('returns the final job from the stream without another request', async () => {
    handle = stream([
      frame('job', job('running')),
      frame('job', job('succeeded')),
      frame('end', { state: 'succeeded', result: { model: 'm', version: 1 }, error: null }),
    ]);
    const states: string[] = [];
    const done = await client().jobs.wait('j1', { onJob: (j) => states.push(j.state) });
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(states, ['running', 'succeeded']);
    assert.deepEqual(requests, ['GET /v1/jobs/j1/events']);
  });

  test('falls back to polling when the stream drops, and tolerates a failed poll', async () => {
    let polls = 0;
    handle = (req, res) => {
      if (req.url?.endsWith('/events')) {
        void stream([frame('job', job('running'))], { finish: 'destroy' })(req, res);
        return;
      }
      polls++;
      if (polls === 1) {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>bad gateway</h1>');
        return;
      }
      const state = polls < 4 ? 'running' : 'failed';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          job(state, { error: state === 'failed' ? 'out of memory' : null, wallSeconds: polls }),
        ),
      );
    };
    const states: string[] = [];
    const done = await client().jobs.wait('j1', { pollIntervalMs: 20, onJob: (j) => states.push(j.state) });
    assert.equal(done.state, 'failed');
    assert.equal(done.error, 'out of memory');
    assert.equal(polls, 4);
    assert.deepEqual(states, ['running', 'running', 'running', 'failed']);
    assert.deepEqual(requests.slice(0, 2), ['GET /v1/jobs/j1/events', 'GET /v1/jobs/j1']);
  });

  test('a job that outlives timeoutMs is a timeout naming its last state; a refusal is thrown as is', async () => {
    handle = stream([frame('job', job('queued'))], { finish: 'hang' });
    const err = await client()
      .jobs.wait('j1', { timeoutMs: 150 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TenantmlError);
    assert.equal(err.code, 'timeout');
    assert.match(err.detail, /job j1 was still queued after 150 ms/);

    handle = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'No', status: 401, code: 'unauthenticated' }));
    };
    const refused = await client()
      .jobs.wait('j1')
      .catch((e: unknown) => e);
    assert.ok(refused instanceof TenantmlError);
    assert.equal(refused.code, 'unauthenticated');
    assert.equal(requests.at(-1), 'GET /v1/jobs/j1/events', 'no polling after a refusal');
  });
});

describe('models and jobs requests', () => {
  test('train sends the body; list filters go in the query; cancel posts', async () => {
    handle = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(req.url === '/v1/models/churn/train' || req.url?.endsWith('/cancel') ? 202 : 200, {
          'content-type': 'application/json',
        });
        if (req.url === '/v1/models/churn/train') {
          assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), {
            dataset: 'leads',
            target: 'label',
            params: { nRounds: 10 },
          });
          res.end(JSON.stringify(job('queued')));
        } else if (req.url?.startsWith('/v1/jobs?')) res.end(JSON.stringify({ jobs: [job('failed')] }));
        else if (req.url === '/v1/models') res.end(JSON.stringify({ models: [{ name: 'churn' }] }));
        else res.end(JSON.stringify(job('cancelled')));
      });
    };
    const c = client();
    const queued = await c.models.train('churn', {
      dataset: 'leads',
      target: 'label',
      params: { nRounds: 10 },
    });
    assert.equal(queued.state, 'queued');
    assert.deepEqual(
      (await c.jobs.list({ state: 'failed', model: 'churn', limit: 5 })).map((j) => j.state),
      ['failed'],
    );
    assert.equal((await c.jobs.cancel('j1')).state, 'cancelled');
    assert.equal((await c.models.list())[0]?.name, 'churn');
    assert.deepEqual(requests, [
      'POST /v1/models/churn/train',
      'GET /v1/jobs?state=failed&model=churn&limit=5',
      'POST /v1/jobs/j1/cancel',
      'GET /v1/models',
    ]);
  });
});
