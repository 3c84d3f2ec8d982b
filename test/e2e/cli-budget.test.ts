// `tenantml budget` and `tenantml quotas`, in-process against the real platform on a socket: set, show and
// clear a budget; the operator's override (a tenant key is refused); bad thresholds; a tenant's quota
// table and the operator's tier table; set-tier edits in force at once and bad pairs refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cliInProcess, type Run } from './cli-helpers.ts';

let running: TestServer;
let acmeEnv: Record<string, string>;
let operatorEnv: Record<string, string>;
let operatorOn: Record<string, string>;

async function run(argv: string[], env = acmeEnv): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env, { cwd: running.dataDir });
  return { code, stdout, stderr };
}

before(async () => {
  running = await startTestServer('tenantml-cli-budget-', { TENANTML_WORKER_SLOTS: '0' });
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'bg-acme', name: 'Acme', tier: 'free' });
  const admin = await operator.keys.create('bg-acme', 'admin');
  acmeEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: admin.key };
  operatorEnv = { TENANTML_URL: running.url, TENANTML_DATA_DIR: running.dataDir };
  operatorOn = { ...operatorEnv, TENANTML_TENANT: 'bg-acme' };
});

after(async () => {
  await running?.close();
});

test('budget set, show (the default), --json, override by the operator only, clear', async () => {
  const none = await run(['budget']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /not_found/);

  const set = await run(['budget', 'set', '--monthly', '25', '--alert-at', '0.5,0.9', '--hard-limit']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /^monthly:\s+25 USD$/m);
  assert.match(set.stdout, /^alert at:\s+50%, 90%$/m);
  assert.match(set.stdout, /^hard limit:\s+training$/m);
  assert.match(set.stdout, /^blocks now:\s+nothing$/m);

  const show = await run(['budget', 'show']);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^spent:\s+0 USD$/m);
  const json = await run(['budget', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const v = JSON.parse(json.stdout);
  assert.deepEqual(v.budget.alertAt, [0.5, 0.9]);
  assert.equal(v.budget.hardLimit, true);
  assert.equal(v.state.limit, 25);

  const denied = await run(['budget', 'override']);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /forbidden/);
  const ov = await run(['budget', 'override'], operatorOn);
  assert.equal(ov.code, 0, ov.stderr);
  assert.match(ov.stdout, /^override:\s+\d{4}-\d{2}$/m);
  const off = await run(['budget', 'override', '--off'], operatorOn);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /^override:\s+none$/m);

  const cleared = await run(['budget', 'clear']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stdout, /budget removed/);
  assert.equal((await run(['budget'])).code, 1);
});

test('budget set refuses bad input: the server names the field, the CLI a usage error', async () => {
  const unsorted = await run(['budget', 'set', '--monthly', '5', '--alert-at', '0.9,0.5']);
  assert.equal(unsorted.code, 1);
  assert.match(unsorted.stderr, /alertAt\[1\]/);
  const negative = await run(['budget', 'set', '--monthly', '-3']);
  assert.equal(negative.code, 1, negative.stderr);
  assert.match(negative.stderr, /monthly/);
  const notNumber = await run(['budget', 'set', '--monthly', 'lots']);
  assert.equal(notNumber.code, 2);
  const badList = await run(['budget', 'set', '--monthly', '5', '--alert-at', '0.5,half']);
  assert.equal(badList.code, 2);
  assert.match(badList.stderr, /"half" is not a number/);
  assert.equal((await run(['budget', 'set'])).code, 2, '--monthly is required');
});

test('quotas: the tenant table, the operator tier table, set-tier in force at once', async () => {
  const mine = await run(['quotas']);
  assert.equal(mine.code, 0, mine.stderr);
  assert.match(mine.stdout, /^tenant bg-acme \(tier free\)$/m);
  assert.match(mine.stdout, /^QUOTA\s+LIMIT\s+SOURCE\s+USED$/m);
  assert.match(mine.stdout, /^datasets\s+5\s+tier\s+0$/m);

  const tiers = await run(['quotas'], operatorEnv);
  assert.equal(tiers.code, 0, tiers.stderr);
  assert.match(tiers.stdout, /^QUOTA\s+FREE\s+STANDARD\s+PREMIUM$/m);

  const edit = await run(['quotas', 'set-tier', 'free', 'datasets=2', 'concurrentJobs=3'], operatorEnv);
  assert.equal(edit.code, 0, edit.stderr);
  assert.match(edit.stdout, /^datasets\s+2 \(edited; default 5\)$/m);
  const json = await run(['quotas', '--json']);
  const lines = JSON.parse(json.stdout).quotas as { name: string; limit: number; source: string }[];
  assert.deepEqual(
    lines.find((l) => l.name === 'datasets'),
    { name: 'datasets', limit: 2, source: 'tierEdit', used: 0 },
  );
  const reset = await run(['quotas', 'set-tier', 'free'], operatorEnv);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match((await run(['quotas'])).stdout, /^datasets\s+5\s+tier\s+0$/m);

  const unknown = await run(['quotas', 'set-tier', 'free', 'gpus=2'], operatorEnv);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown quota "gpus"/);
  const badValue = await run(['quotas', 'set-tier', 'free', 'datasets=-1'], operatorEnv);
  assert.equal(badValue.code, 2);
  const badTier = await run(['quotas', 'set-tier', 'gold', 'datasets=1'], operatorEnv);
  assert.equal(badTier.code, 2);
  const tenantEdits = await run(['quotas', 'set-tier', 'free', 'datasets=1']);
  assert.equal(tenantEdits.code, 1);
  assert.match(tenantEdits.stderr, /forbidden/);
});
