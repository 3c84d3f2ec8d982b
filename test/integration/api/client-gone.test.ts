// clientGone: the predict routes' OnGone hook, telling a request waiting for a slot that its client went
// away — listening only when asked — on a real port, with a client that really disconnects.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { clientGone } from '../../../src/api/routes/predict.ts';
import type { OnGone } from '../../../src/runtime/limits/admission.ts';

async function serverWith(
  handler: (gone: OnGone, raw: import('node:http').ServerResponse) => Promise<unknown>,
) {
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) => handler(clientGone(reply), reply.raw));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  return { app, port };
}

/** Sends a request, then closes the socket without reading the answer. */
function hangUp(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 50);
    });
    s.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number, otherwise: T): Promise<T> =>
  Promise.race([p, new Promise<T>((r) => setTimeout(() => r(otherwise), ms))]);

test('listening while the client is connected, the hook calls leave when the client hangs up', async () => {
  let left: Promise<boolean> | undefined;
  let listeners = -1;
  const { app, port } = await serverWith(async (gone, raw) => {
    const before = raw.listenerCount('close');
    left = new Promise((resolve) => {
      gone(() => resolve(true));
    });
    listeners = raw.listenerCount('close') - before;
    await left;
    return { late: true };
  });
  try {
    await hangUp(port);
    assert.equal(await within(left!, 2000, false), true);
    assert.equal(listeners, 1, 'one close listener while waiting');
  } finally {
    await app.close();
  }
});

test('asked only after the client hung up, the hook calls leave at once', async () => {
  let seen: boolean | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const { app, port } = await serverWith(async (gone) => {
    await new Promise((r) => setTimeout(r, 300)); // the client leaves meanwhile
    let called = false;
    gone(() => {
      called = true;
    });
    seen = called;
    done();
    return {};
  });
  try {
    await hangUp(port);
    await finished;
    assert.equal(seen, true);
  } finally {
    await app.close();
  }
});

test('stopping listening removes the listener; a request answered normally never calls leave', async () => {
  let calls = 0;
  let remaining = -1;
  const { app, port } = await serverWith(async (gone, raw) => {
    const before = raw.listenerCount('close');
    const stop = gone(() => calls++);
    stop();
    remaining = raw.listenerCount('close') - before;
    gone(() => calls++); // still listening when the answer is sent
    return { ok: true };
  });
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(remaining, 0);
    assert.equal(calls, 0);
  } finally {
    await app.close();
  }
});
