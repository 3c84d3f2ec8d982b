// A predict request waiting for a serving slot whose client hangs up leaves the fair queue at once (503
// cancelled, its in-flight place and budget given back) — end to end: the real server on a real port, the
// route's OnGone hook wired into admission. One slot (TENANTML_INFERENCE_CONCURRENCY=1), held by a request
// that waits the longest batch window, so the second request must queue.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { registerTrained, trainTiny } from './fixtures.ts';

const model = trainTiny();
const body = JSON.stringify({ instances: [{ x: 0.5, n: 1, color: 'red' }] });

let tp: TestPlatform;
let port: number;
let a: { id: string; predict: string };
let b: { id: string; predict: string };

before(async () => {
  tp = await createTestPlatform('sqlite', {
    env: { TENANTML_INFERENCE_CONCURRENCY: '1', TENANTML_INFERENCE_BATCH_WINDOW_MS: '1000' },
  });
  a = await tp.tenant('gone-a');
  b = await tp.tenant('gone-b');
  for (const t of [a, b]) await registerTrained(tp.platform, mintTenantScope(t.id, SYSTEM), 'm', model);
  await tp.platform.app.listen({ host: '127.0.0.1', port: 0 });
  port = (tp.platform.app.server.address() as { port: number }).port;
});
after(() => tp.cleanup());

/** An admission gauge from GET /metrics. */
async function gauge(name: string): Promise<number> {
  const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
  const line = m.text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

async function until(what: string, pred: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const predict = (key: string) =>
  fetch(`http://127.0.0.1:${port}/v1/models/m/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });

test('a queued predict whose client hangs up leaves the queue at once, before the slot frees', async () => {
  // Both models loaded first (each answer waits the 1 s window).
  for (const t of [a, b]) assert.equal((await predict(t.predict)).status, 200);
  const shedBefore = await gauge('tenantml_admission_shed_total');

  let held = true;
  const holding = predict(a.predict).finally(() => {
    held = false;
  }); // takes the one slot for the batch window
  await until('the slot taken', async () => (await gauge('tenantml_admission_running')) === 1, 5000);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.write(
    `POST /v1/models/m/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${b.predict}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await until('B queued', async () => (await gauge('tenantml_admission_queued')) === 1, 5000);
  socket.destroy();
  await until('B out of the queue', async () => (await gauge('tenantml_admission_queued')) === 0, 5000);
  assert.ok(held, 'B left the queue while the slot was still held, not when the slot freed');
  assert.equal(await gauge('tenantml_admission_shed_total'), shedBefore + 1, 'counted as shed (cancelled)');

  assert.equal((await holding).status, 200);
  // B's in-flight place was given back: it predicts again.
  assert.equal((await predict(b.predict)).status, 200);
  assert.equal(await gauge('tenantml_admission_in_flight'), 0);
});
