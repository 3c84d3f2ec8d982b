// The three approaches end to end from the `tenantml` command, with one real worker: a shared model
// trained on two consenting tenants' pooled data (`shared train --watch`), a tuned model built on it
// (`train --mode tuned --base`), the advisor comparing tenant, shared and tuned (`models advise --wait`),
// provenance showing it all, and `predict` answering with the live version. Small data keeps it quick.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cliInProcess, leadsCsv, type Run } from './cli-helpers.ts';

let running: TestServer;
let operatorEnv: Record<string, string>;
let acmeEnv: Record<string, string>;

async function run(argv: string[], env: Record<string, string>): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env, { cwd: running.dataDir });
  return { code, stdout, stderr };
}

before(async () => {
  running = await startTestServer('tenantml-cli-tuned-', { TENANTML_WORKER_SLOTS: '1' });
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  for (const id of ['acme', 'globex']) {
    await operator.tenants.create({ id, name: id, sharedTraining: true });
    await operator.withTenant(id).datasets.upload('leads', leadsCsv(300));
  }
  const acmeKey = (await operator.keys.create('acme', 'admin')).key;
  operatorEnv = { TENANTML_URL: running.url, TENANTML_DATA_DIR: running.dataDir };
  acmeEnv = { ...operatorEnv, TENANTML_API_KEY: acmeKey };
});

after(async () => {
  await running?.close();
});

test('shared train, tuned train, advise --wait, provenance and predict', async () => {
  const shared = await run(
    ['shared', 'train', 'churn', '--dataset', 'leads', '--target', 'label', '--publish', 'all', '--watch'],
    operatorEnv,
  );
  assert.equal(shared.code, 0, shared.stderr);
  const sharedLines = shared.stdout.trimEnd().split('\n');
  assert.match(sharedLines[0], /^job \S+ queued for shared model churn$/);
  assert.match(sharedLines.at(-1) ?? '', /^succeeded {2}churn version 1 {2}in /);

  const prov = await run(['shared', 'provenance', 'churn', '1'], operatorEnv);
  assert.match(prov.stdout, /^_shared\s+churn\s+1\s+shared\s+ok\s+yes\s+acme\/leads@1\s+300\s+-$/m);
  assert.match(prov.stdout, /^_shared\s+churn\s+1\s+shared\s+ok\s+yes\s+globex\/leads@1\s+300\s+-$/m);

  const tuned = await run(
    [
      'train',
      'churn',
      '--dataset',
      'leads',
      '--target',
      'label',
      '--mode',
      'tuned',
      '--base',
      'churn',
      '--watch',
    ],
    acmeEnv,
  );
  assert.equal(tuned.code, 0, tuned.stderr);
  const show = await run(['models', 'show', 'churn'], acmeEnv);
  assert.match(show.stdout, /^1\s+yes\s+tuned\s+binary\s+\S+\s+acme\/leads@1 \(300 rows\)\s+churn@1\s/m);

  const advise = await run(
    [
      'models',
      'advise',
      'churn',
      '--dataset',
      'leads',
      '--target',
      'label',
      '--auto-promote',
      '--wait',
      '--json',
    ],
    acmeEnv,
  );
  assert.equal(advise.code, 0, advise.stderr);
  const advice = JSON.parse(advise.stdout);
  assert.equal(advice.state, 'done');
  assert.deepEqual(advice.shared, { model: 'churn', version: 1 });
  assert.deepEqual(advice.result.candidates.map((c: { mode: string }) => c.mode).sort(), [
    'shared',
    'tenant',
    'tuned',
  ]);
  assert.ok(['tenant', 'shared', 'tuned'].includes(advice.result.recommendation));

  const list = await run(['models', 'advice', 'churn'], acmeEnv);
  assert.match(
    list.stdout,
    new RegExp(`^${advice.id}\\s+done\\s+leads@1\\s+churn@1\\s+${advice.result.recommendation}\\s`, 'm'),
  );
  assert.match(list.stdout, /^CANDIDATE\s+VERSION\s+ACCURACY\s+OTHER METRICS$/m);
  assert.match(list.stdout, /^recommendation: (tenant|shared|tuned)$/m);

  const own = JSON.parse((await run(['provenance', '--json'], acmeEnv)).stdout);
  assert.deepEqual(
    own.contributions.map((c: { model: string; version: number; rows: number }) => [
      c.model,
      c.version,
      c.rows,
    ]),
    [['churn', 1, 300]],
  );
  const inUse = own.sharedInUse.find((s: { model: string }) => s.model === 'churn');
  assert.ok(
    inUse.tunedBy.some((r: { model: string; version: number }) => r.model === 'churn' && r.version === 1),
    JSON.stringify(inUse),
  );

  // Whatever is live now answers: the tenant's own version (tuned or tenant-specific).
  const live = (
    await new TenantmlClient({ baseUrl: running.url, apiKey: acmeEnv.TENANTML_API_KEY }).models.get('churn')
  ).liveVersion;
  const p = await run(['predict', 'churn', '--instances', '{"x1":5,"x2":6,"colour":"red"}'], acmeEnv);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`^model churn version ${live} \\((tenant|tuned)\\), request \\S+$`, 'm'));
  assert.match(p.stdout, /^0\s+(true|false)\s+0\.\d{4}\s+0\.\d{4}\s+\S+\.0$/m);
});
