// A real platform listening on a free local port, with its own temporary data folder: what the end-to-end
// tests (SDK, CLI, raw HTTP) talk to. close() stops it and removes the folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import { startPlatform } from '../../src/platform.ts';

export type TestServer = Awaited<ReturnType<typeof startPlatform>> & { dataDir: string };

export async function startTestServer(prefix: string, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const config = loadConfig(
    {
      TENANTML_DATA_DIR: dataDir,
      TENANTML_HOST: '127.0.0.1',
      TENANTML_PORT: '0',
      TENANTML_LOG_LEVEL: 'silent',
      ...env,
    },
    dataDir,
  );
  const running = await startPlatform(config);
  return {
    ...running,
    dataDir,
    async close() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a tenant on the running server (through the real routes) and returns a new key of `role` for it. */
export async function tenantKey(
  server: TestServer,
  id: string,
  role: 'admin' | 'predict' = 'admin',
): Promise<string> {
  const app = server.platform.app;
  const op = { authorization: `Bearer ${server.platform.adminKey}` };
  await app.inject({ method: 'POST', url: '/v1/tenants', headers: op, payload: { id, name: id } });
  const res = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${id}/keys`,
    headers: op,
    payload: { role },
  });
  return res.json().key;
}
