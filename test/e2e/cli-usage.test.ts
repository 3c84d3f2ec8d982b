// `tenantml usage` and `tenantml usage report`, and the SDK's usage.get, against a real server: a tenant
// admin sees its own usage, the operator every tenant's (or one with --tenant / withTenant); the monthly
// report prints usage, cost and budget state per tenant as a table or CSV; bad options are refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { UsageEvent } from '../../src/core/metering.ts';
import { TenantmlClient, TenantmlError } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer, tenantKey } from '../helpers/server.ts';
import { cliInProcess } from './cli-helpers.ts';

let running: TestServer;
let opEnv: Record<string, string>;
let aEnv: Record<string, string>;
let aKey: string;

// These tests read "this month" (the CLI's default window, the budget's state now) and must not straddle
// a UTC month boundary: within two minutes of one, wait for the new month before starting.
async function clearOfMonthEnd(marginMs = 120_000): Promise<void> {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  if (next - now.getTime() < marginMs) await new Promise((r) => setTimeout(r, next - now.getTime() + 50));
}
await clearOfMonthEnd();
const month = new Date().toISOString().slice(0, 7);
const at = new Date().toISOString();

const ev = (
  id: string,
  tenantId: string,
  kind: UsageEvent['kind'],
  quantity: number,
  origin: UsageEvent['origin'] = 'own',
): UsageEvent => ({
  id,
  tenantId,
  kind,
  quantity,
  at,
  subject: 'churn',
  origin,
});

before(async () => {
  running = await startTestServer('tenantml-cli-usage-');
  aKey = await tenantKey(running, 'ea');
  await tenantKey(running, 'eb');
  await tenantKey(running, 'ec'); // no usage at all: still in the report
  opEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: running.platform.adminKey };
  aEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: aKey };
  const meter = running.platform.meter;
  meter.record([
    ev('e2e:1', 'ea', 'predicted_rows', 1500),
    ev('e2e:2', 'ea', 'predict_requests', 12),
    ev('e2e:3', 'ea', 'training_cpu_seconds', 40),
    ev('e2e:4', 'ea', 'training_cpu_seconds', 10, 'shared'),
    ev('e2e:5', 'eb', 'predicted_rows', 7),
    ev('e2e:6', 'eb', 'storage_byte_hours', 2e9),
  ]);
  await meter.flush();
});

after(async () => {
  await running?.close();
});

test('usage: a tenant admin reads its own, as a table and as JSON', async () => {
  const r = await cliInProcess(['usage', '--granularity', 'month'], aEnv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /TENANT\s+PERIOD\s+TRAIN CPU-S/);
  assert.match(r.stdout, /^ea\s/m);
  assert.doesNotMatch(r.stdout, /^eb\s/m);
  assert.match(r.stdout, /contributing tenants, by rows/);

  const j = await cliInProcess(['usage', '--json'], aEnv);
  assert.equal(j.code, 0, j.stderr);
  const body = JSON.parse(j.stdout);
  assert.deepEqual(
    body.tenants.map((t: { tenantId: string }) => t.tenantId),
    ['ea'],
  );
  assert.equal(body.tenants[0].total.usage.predicted_rows, 1500);
  assert.equal(body.tenants[0].total.usage.training_cpu_seconds, 50);
  assert.equal(body.tenants[0].total.sharedUsage.training_cpu_seconds, 10);
  assert.equal(body.granularity, 'day');
});

test('usage: the operator reads every tenant, or one with --tenant', async () => {
  const all = await cliInProcess(['usage', '--json'], opEnv);
  assert.equal(all.code, 0, all.stderr);
  const ids = JSON.parse(all.stdout).tenants.map((t: { tenantId: string }) => t.tenantId);
  assert.ok(ids.includes('ea') && ids.includes('eb'), ids.join());
  const one = await cliInProcess(['usage', '--json', '--tenant', 'eb'], opEnv);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(
    JSON.parse(one.stdout).tenants.map((t: { tenantId: string }) => t.tenantId),
    ['eb'],
  );
});

test('usage: bad options are refused, naming what is wrong', async () => {
  const g = await cliInProcess(['usage', '--granularity', 'week'], aEnv);
  assert.equal(g.code, 2);
  assert.match(g.stderr, /granularity/);
  const f = await cliInProcess(['usage', '--from', 'yesterday'], aEnv);
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /validation_failed/);
  assert.match(f.stderr, /from/);
  const other = await cliInProcess(['usage', '--tenant', 'eb'], aEnv);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /not_found/);
});

test('usage report: usage, cost and budget state per tenant, as a table and as CSV', async () => {
  // A budget of 100 for ea: the report shows the month's cost against it and what it blocks now.
  const a = new TenantmlClient({ baseUrl: running.url, apiKey: aKey });
  await a.budget.put({ monthly: 100 });
  const cost = 50 * 0.00005 + 1.5 * 0.01; // 50 CPU-s and 1,500 predictions at the default prices

  const t = await cliInProcess(['usage', 'report', '--month', month], opEnv);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`usage report ${month}, cost in USD`));
  assert.match(t.stdout, /TENANT\s+TRAIN CPU-S.*COST\s+BUDGET\s+USED\s+BLOCKS/);
  const line = (id: string) => t.stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
  assert.match(line('ec'), /—\s+—\s+—$/, 'a tenant without a budget');
  assert.match(line('ea'), new RegExp(`100\\.0000\\s+${Math.round((cost / 100) * 1000) / 10}%\\s+no$`));

  // An earlier month: no usage, the budget's limit, and no blocking state (it is only known for now).
  const past = await cliInProcess(['usage', 'report', '--month', '2020-01'], opEnv);
  assert.equal(past.code, 0, past.stderr);
  const pastA = past.stdout.split('\n').find((l) => l.startsWith('ea ')) ?? '';
  assert.match(pastA, /^ea\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+100\.0000\s+0%\s+—$/);

  const c = await cliInProcess(['usage', 'report', '--month', month, '--csv'], opEnv);
  assert.equal(c.code, 0, c.stderr);
  const [header, ...rows] = c.stdout.trim().split('\n');
  const cols = header.split(',');
  // The columns docs/metering.md lists, in its order.
  assert.deepEqual(cols, [
    'tenant',
    'month',
    'training_cpu_seconds',
    'training_wall_seconds',
    'training_rows',
    'predict_requests',
    'predicted_rows',
    'inference_cpu_seconds',
    'storage_byte_hours',
    'monitoring_runs',
    'shared_training_cpu_seconds',
    'cost',
    'currency',
    'budget_monthly',
    'budget_ratio',
    'blocks_training',
    'blocks_predictions',
  ]);
  const byTenant = new Map(rows.map((r) => [r.split(',')[0], r.split(',')]));
  assert.deepEqual([...byTenant.keys()].filter((k) => !k.startsWith('_')).sort(), ['ea', 'eb', 'ec']);
  const ea = byTenant.get('ea')!;
  assert.equal(ea[cols.indexOf('predicted_rows')], '1500');
  assert.equal(ea[cols.indexOf('shared_training_cpu_seconds')], '10');
  assert.ok(Math.abs(Number(ea[cols.indexOf('cost')]) - cost) < 1e-9, ea.join());
  assert.equal(ea[cols.indexOf('budget_monthly')], '100');
  assert.ok(Math.abs(Number(ea[cols.indexOf('budget_ratio')]) - cost / 100) < 1e-12);
  assert.equal(ea[cols.indexOf('blocks_training')], 'false');
  assert.equal(byTenant.get('eb')![cols.indexOf('budget_monthly')], '');
  assert.equal(byTenant.get('ec')![cols.indexOf('cost')], '0');
});

test('usage report: the month is required and must be YYYY-MM; a tenant key is refused', async () => {
  const none = await cliInProcess(['usage', 'report'], opEnv);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--month/);
  const bad = await cliInProcess(['usage', 'report', '--month', '2026-13'], opEnv);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /YYYY-MM/);
  const tenant = await cliInProcess(['usage', 'report', '--month', month], aEnv);
  assert.notEqual(tenant.code, 0);
  assert.match(tenant.stderr, /forbidden/);
});

test('SDK usage.get: own usage for a tenant key, all or one tenant for the operator, field errors', async () => {
  const op = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  const all = await op.usage.get({ granularity: 'month' });
  assert.ok(all.tenants.some((t) => t.tenantId === 'eb'));
  const eb = await op.withTenant('eb').usage.get();
  assert.deepEqual(
    eb.tenants.map((t) => t.tenantId),
    ['eb'],
  );
  assert.equal(eb.tenants[0].total.usage.storage_byte_hours, 2e9);
  const a = new TenantmlClient({ baseUrl: running.url, apiKey: aKey });
  const own = await a.usage.get({ from: `${month}-01` });
  assert.deepEqual(
    own.tenants.map((t) => t.tenantId),
    ['ea'],
  );
  const err = await a.usage.get({ granularity: 'week' as 'day' }).catch((e: unknown) => e);
  assert.ok(err instanceof TenantmlError);
  assert.equal(err.status, 400);
  assert.ok(err.errors.some((e) => e.field === 'granularity'));
});
