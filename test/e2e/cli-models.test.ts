// `tenantml models promote` and `models rollback`, in-process against the real platform on a socket: the
// live version moves, `show` prints the history, a refusal sets the exit code. Versions are registered
// straight into the store, so no training runs.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../src/core/scope.ts';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { modelVersionInput } from '../integration/store/fixtures.ts';
import { cliInProcess } from './cli-helpers.ts';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await cliInProcess(argv, env);
  return { code, stdout, stderr };
}

let dataDir: string;
let running: TestServer;
let env: Record<string, string>;

before(async () => {
  running = await startTestServer('tenantml-cli-models-');
  dataDir = running.dataDir;
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'cli-models', name: 'CLI models' });
  const scope = mintTenantScope('cli-models', SYSTEM);
  for (let i = 0; i < 3; i++) await running.platform.store.models.register(scope, modelVersionInput('churn'));
  // The operator's key (read from the data folder) acting on the tenant.
  env = { TENANTML_URL: running.url, TENANTML_DATA_DIR: dataDir, TENANTML_TENANT: 'cli-models' };
});

after(async () => {
  await running?.close();
});

test('promote, rollback, show with the history; a rollback with nothing left fails with exit code 1', async () => {
  const p = await run(['models', 'promote', 'churn', '3']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^churn: version 3 is live$/m);
  assert.match(p.stdout, /live version history:/);
  assert.match(p.stdout, /\bpromote\s+1\s+3\s+operator\b/);

  const j = await run(['models', 'promote', 'churn', '2', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const detail = JSON.parse(j.stdout);
  assert.equal(detail.liveVersion, 2);
  assert.deepEqual(
    detail.liveHistory.map((h: { fromVersion: number; toVersion: number }) => [h.fromVersion, h.toVersion]),
    [
      [1, 3],
      [3, 2],
    ],
  );

  const r1 = await run(['models', 'rollback', 'churn']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /^churn: version 3 is live$/m);
  const r2 = await run(['models', 'rollback', 'churn']);
  assert.match(r2.stdout, /^churn: version 1 is live$/m);
  const r3 = await run(['models', 'rollback', 'churn']);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /conflict/);

  const show = await run(['models', 'show', 'churn']);
  assert.match(show.stdout, /live version history:/);
  assert.equal(show.stdout.match(/\brollback\b/g)?.length, 2);
});

test('a bad version is refused before any request; a missing one is not_found', async () => {
  const bad = await run(['models', 'promote', 'churn', 'two']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /whole number/);
  const missing = await run(['models', 'promote', 'churn', '9']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not_found/);
});
