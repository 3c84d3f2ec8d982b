// `tenantml webhooks`, in-process against the real platform on a socket: create shows the secret once,
// list/show never do, a test delivery is queued and listed, delete removes it; another tenant's webhook
// is not_found, a predict key is forbidden, bad events and private URLs are refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cliInProcess, type Run } from './cli-helpers.ts';

let running: TestServer;
let acmeEnv: Record<string, string>;
let globexEnv: Record<string, string>;
let predictEnv: Record<string, string>;

async function run(argv: string[], env = acmeEnv): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env, { cwd: running.dataDir });
  return { code, stdout, stderr };
}

before(async () => {
  running = await startTestServer('tenantml-cli-webhooks-');
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'wh-acme', name: 'Acme' });
  await operator.tenants.create({ id: 'wh-globex', name: 'Globex' });
  const admin = await operator.keys.create('wh-acme', 'admin');
  const predict = await operator.keys.create('wh-acme', 'predict');
  // A tenant admin key for acme; the operator key (from the data folder's admin.key) acting on globex.
  acmeEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: admin.key };
  predictEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: predict.key };
  globexEnv = { TENANTML_URL: running.url, TENANTML_DATA_DIR: running.dataDir, TENANTML_TENANT: 'wh-globex' };
});

after(async () => {
  await running?.close();
});

test('create shows the secret once with a warning; list and show never show it; test, deliveries, delete', async () => {
  const created = await run([
    'webhooks',
    'create',
    'https://hooks.example.com/tenantml',
    '--events',
    'drift, promotion,drift',
  ]);
  assert.equal(created.code, 0, created.stderr);
  const id = /^id:\s+(\S+)$/m.exec(created.stdout)?.[1];
  const secret = /^secret:\s+(\S+)$/m.exec(created.stdout)?.[1];
  assert.ok(id && secret, created.stdout);
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  assert.match(created.stdout, /^events:\s+drift, promotion$/m);
  assert.match(created.stderr, /shown this once/);

  const list = await run(['webhooks', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+URL\s+EVENTS\s+CREATED\s+CREATED BY$/m);
  assert.match(
    list.stdout,
    new RegExp(`^${id}\\s+https://hooks\\.example\\.com/tenantml\\s+drift,promotion\\s`, 'm'),
  );
  assert.ok(!list.stdout.includes(secret));

  const shown = await run(['webhooks', 'show', id]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /no deliveries yet/);
  assert.ok(!shown.stdout.includes(secret));
  const shownJson = JSON.parse((await run(['webhooks', 'show', id, '--json'])).stdout);
  assert.equal(shownJson.id, id);
  assert.equal(shownJson.secret, undefined);

  const queued = await run(['webhooks', 'test', id]);
  assert.equal(queued.code, 0, queued.stderr);
  assert.match(queued.stdout, /^event:\s+test$/m);
  assert.match(queued.stdout, /^state:\s+pending$/m);
  const deliveryId = /^delivery:\s+(\S+)$/m.exec(queued.stdout)?.[1];
  assert.ok(deliveryId);

  const deliveries = await run(['webhooks', 'deliveries', id, '--json']);
  assert.equal(deliveries.code, 0, deliveries.stderr);
  const list2 = JSON.parse(deliveries.stdout);
  assert.deepEqual(
    list2.map((d: { id: string; event: string }) => [d.id, d.event]),
    [[deliveryId, 'test']],
  );
  const table = await run(['webhooks', 'deliveries', id, '--limit', '5']);
  assert.match(table.stdout, /^ID\s+EVENT\s+STATE\s+ATTEMPTS/m);
  assert.match(table.stdout, new RegExp(`^${deliveryId}\\s+test\\s+(pending|failed)\\s`, 'm'));

  const deleted = await run(['webhooks', 'delete', id]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, `deleted webhook ${id}\n`);
  assert.deepEqual(JSON.parse((await run(['webhooks', 'list', '--json'])).stdout), []);
  const gone = await run(['webhooks', 'show', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error not_found/m);
});

test('create --json carries the secret; without --events every alert event is subscribed', async () => {
  const r = await run(['webhooks', 'create', 'https://hooks.example.com/all', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const w = JSON.parse(r.stdout);
  assert.equal(typeof w.secret, 'string');
  assert.deepEqual(w.events, [
    'drift',
    'performance_drop',
    'job_failed',
    'promotion',
    'challenger_rejected',
    'budget',
  ]);
  assert.equal(r.stderr, '', 'no warning mixed into a JSON run');
  await run(['webhooks', 'delete', w.id]);
});

test('tenants never see each other’s webhooks; the operator reaches one with --tenant', async () => {
  const globex = await run(
    ['webhooks', 'create', 'https://hooks.example.com/globex', '--events', 'job_failed'],
    globexEnv,
  );
  assert.equal(globex.code, 0, globex.stderr);
  const id = /^id:\s+(\S+)$/m.exec(globex.stdout)?.[1] as string;
  const fromAcme = await run(['webhooks', 'show', id]);
  assert.equal(fromAcme.code, 1);
  assert.match(fromAcme.stderr, /^error not_found/m);
  const deleteFromAcme = await run(['webhooks', 'delete', id]);
  assert.equal(deleteFromAcme.code, 1);
  assert.ok(!(await run(['webhooks', 'list'])).stdout.includes(id));
  const own = await run(['webhooks', 'list', '--json'], globexEnv);
  assert.deepEqual(
    JSON.parse(own.stdout).map((w: { id: string }) => w.id),
    [id],
  );
});

test('refusals: unknown event (exit 2), private URL (validation_failed on url), predict key (forbidden)', async () => {
  const unknown = await run(['webhooks', 'create', 'https://hooks.example.com/x', '--events', 'drift,nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown event nope/);

  const loopback = await run(['webhooks', 'create', 'http://127.0.0.1:9/hook']);
  assert.equal(loopback.code, 1);
  assert.match(loopback.stderr, /^error validation_failed/m);
  assert.match(loopback.stderr, /^ {2}url: /m);

  const predict = await run(['webhooks', 'list'], predictEnv);
  assert.equal(predict.code, 1);
  assert.match(predict.stderr, /^error forbidden/m);
});
