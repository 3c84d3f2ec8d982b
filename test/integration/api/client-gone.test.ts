// clientGone: the predict routes' signal that a request's client went away, made only when asked for —
// on a real port, with a client that really disconnects.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { clientGone } from '../../../src/api/routes/predict.ts';

async function serverWith(handler: (gone: () => AbortSignal) => Promise<unknown>) {
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) => handler(clientGone(reply)));
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

test('asked for while the client is connected, the signal aborts when the client hangs up', async () => {
  let aborted: Promise<boolean> | undefined;
  const { app, port } = await serverWith(async (gone) => {
    const signal = gone();
    assert.equal(gone(), signal, 'one signal per request');
    assert.equal(signal.aborted, false);
    aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(true)));
    await aborted;
    return { late: true };
  });
  try {
    await hangUp(port);
    assert.equal(await Promise.race([aborted, new Promise((r) => setTimeout(() => r(false), 2000))]), true);
  } finally {
    await app.close();
  }
});

test('asked for only after the client hung up, the signal is already aborted', async () => {
  let seen: boolean | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const { app, port } = await serverWith(async (gone) => {
    await new Promise((r) => setTimeout(r, 300)); // the client leaves meanwhile
    seen = gone().aborted;
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

test('a request answered normally never aborts its signal', async () => {
  let signal: AbortSignal | undefined;
  const { app, port } = await serverWith(async (gone) => {
    signal = gone();
    return { ok: true };
  });
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(signal?.aborted, false);
  } finally {
    await app.close();
  }
});
