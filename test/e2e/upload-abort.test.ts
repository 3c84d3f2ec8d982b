// A client that disconnects in the middle of an upload leaves nothing behind — no version, no stored
// bytes, no temporary file — and the server keeps serving.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer, tenantKey } from '../helpers/server.ts';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('an upload cut off mid-body leaves no trace and the server keeps serving', {
  timeout: 60_000,
}, async () => {
  const run = await startTestServer('tenantml-abort-', { TENANTML_WORKER_SLOTS: '0' });
  const dir = run.dataDir;
  try {
    const app = run.platform.app;
    const key = await tenantKey(run, 'cut');

    // Announce 50 MB, send ~2 MB of well-formed rows, then drop the connection.
    const { port } = new URL(run.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/v1/datasets/cut-off',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'text/csv',
          'content-length': String(50 * 1024 * 1024),
        },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write('a,b,c\n');
      const chunk = '1,2,hello world\n'.repeat(4096);
      let sent = 0;
      const pump = (): void => {
        while (sent < 32) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        setTimeout(() => req.destroy(), 100);
      };
      pump();
    });

    // The server notices, cleans up, and answers everyone else.
    let health = 0;
    for (let i = 0; i < 50 && health !== 200; i++) {
      health = (await fetch(`${run.url}/healthz`)).status;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health, 200);
    const auth = { authorization: `Bearer ${key}` };
    let leftovers: string[] = ['?'];
    for (let i = 0; i < 50 && leftovers.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      leftovers = filesUnder(join(dir, 'artifacts', 'tenants', 'cut'));
    }
    assert.deepEqual(leftovers, [], 'no stored bytes and no temporary file');
    const list = await app.inject({ method: 'GET', url: '/v1/datasets', headers: auth });
    assert.deepEqual(list.json().datasets, []);
    // And a good upload right after works.
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/datasets/fine',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: 'a,b\n1,2\n',
    });
    assert.equal(ok.statusCode, 201);
  } finally {
    await run.close();
  }
});
