// `tenantml monitor` (windows, feedback, policy), in-process against the real platform on a socket.
// Versions are registered and windows committed straight into the store, so nothing is trained and no
// monitoring cycle has to run.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../src/core/scope.ts';
import { TenantmlClient } from '../../src/sdk/index.ts';
import type { MonitorWindow } from '../../src/store/ports.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { modelVersionInput } from '../integration/store/fixtures.ts';
import { cliInProcess, type Run } from './cli-helpers.ts';

const TENANT = 'cli-monitor';
let running: TestServer;
let operatorEnv: Record<string, string>;
let predictEnv: Record<string, string>;

async function run(argv: string[], env = operatorEnv, stdin?: Readable): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env, { cwd: running.dataDir, stdin });
  return { code, stdout, stderr };
}

const feature = (name: string, drifted: boolean) => ({
  name,
  kind: 'numeric',
  method: 'wasserstein',
  statistic: drifted ? 0.31 : 0.02,
  threshold: 0.1,
  drifted,
  psi: 0.01,
  missingRate: 0,
  outOfRange: 0,
  unseen: null,
});

function window(start: string, rows: number, report: Record<string, unknown>): MonitorWindow {
  return {
    tenantId: TENANT,
    model: 'churn',
    version: 2,
    granularity: 'hour',
    start,
    rows,
    aggregate: {},
    report: { rows, ...report },
    updatedAt: start,
  };
}

before(async () => {
  running = await startTestServer('tenantml-cli-monitor-');
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: TENANT, name: 'CLI monitor' });
  const scope = mintTenantScope(TENANT, SYSTEM);
  for (let i = 0; i < 2; i++) await running.platform.store.models.register(scope, modelVersionInput('churn'));
  await running.platform.store.models.register(scope, modelVersionInput('idle', { candidate: true }));
  await operator.withTenant(TENANT).models.promote('churn', 2);
  const predictKey = await operator.keys.create(TENANT, 'predict');
  // The operator key is read from the data folder's admin.key; the predict key comes by variable.
  operatorEnv = { TENANTML_URL: running.url, TENANTML_DATA_DIR: running.dataDir, TENANTML_TENANT: TENANT };
  predictEnv = { TENANTML_URL: running.url, TENANTML_API_KEY: predictKey.key };
});

after(async () => {
  await running?.close();
});

describe('monitor <model>', () => {
  test('no windows yet: a message that says why, for a watched model and for one with no live version', async () => {
    const watched = await run(['monitor', 'churn']);
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stdout, /^live version:\s+2$/m);
    assert.match(watched.stdout, /no monitoring windows yet: the monitoring loop/);
    assert.doesNotMatch(watched.stdout, /START/);

    const idle = await run(['monitor', 'idle']);
    assert.equal(idle.code, 0, idle.stderr);
    assert.match(idle.stdout, /^live version:\s+none$/m);
    assert.match(idle.stdout, /idle has no live version/);

    const json = await run(['monitor', 'churn', '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { model: 'churn', liveVersion: 2, windows: [] });
  });

  test('a missing model is not_found; a bad --from is refused naming the field', async () => {
    const missing = await run(['monitor', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error not_found/m);
    const bad = await run(['monitor', 'churn', '--from', 'yesterday']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ {2}from: must be an ISO date/m);
    const granularity = await run(['monitor', 'churn', '--granularity', 'week']);
    assert.equal(granularity.code, 2);
  });

  test('windows as a table: start, version, rows, status, drifted features, performance', async () => {
    const scope = mintTenantScope(TENANT, SYSTEM);
    await running.platform.store.monitor.commit(
      scope,
      'churn',
      [
        window('2026-11-28T10:00:00.000Z', 120, {
          status: 'drift',
          datasetDrift: true,
          driftedShare: 0.5,
          features: [feature('seats', true), feature('plan_age', false)],
          prediction: { ...feature('prediction', true), kind: 'categorical', method: 'chi2' },
          performance: { metric: 'accuracy', value: 0.71, n: 60 },
          performanceDrop: true,
          reference: { metric: 'accuracy', value: 0.9 },
        }),
        window('2026-11-28T11:00:00.000Z', 80, {
          status: 'ok',
          datasetDrift: false,
          driftedShare: 0,
          features: [feature('seats', false), feature('plan_age', false)],
          prediction: null,
          performance: null,
          performanceDrop: false,
          reference: null,
        }),
      ],
      null,
    );
    const r = await run(['monitor', 'churn']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('START'));
    assert.match(lines[header], /^START\s+VERSION\s+ROWS\s+STATUS\s+DRIFTED\s+PERFORMANCE$/);
    // Newest first.
    assert.match(lines[header + 1], /^2026-11-28 11:00:00Z\s+2\s+80\s+ok\s+-\s+-$/);
    assert.match(
      lines[header + 2],
      /^2026-11-28 10:00:00Z\s+2\s+120\s+drift\s+seats, prediction \(50% of features\)\s+accuracy 0\.71 \(n=60\) DROP from 0\.9$/,
    );

    const explicit = await run(['monitor', 'windows', 'churn', '--from', '2026-11-28T10:30:00Z', '--json']);
    assert.equal(explicit.code, 0, explicit.stderr);
    const v = JSON.parse(explicit.stdout);
    assert.deepEqual(
      v.windows.map((w: { start: string; status: string }) => [w.start, w.status]),
      [['2026-11-28T11:00:00.000Z', 'ok']],
    );

    // Numbers in the query (the server once refused any ?version= or ?limit=).
    const newest = await run(['monitor', 'churn', '--version', '2', '--limit', '1', '--json']);
    assert.equal(newest.code, 0, newest.stderr);
    assert.deepEqual(
      JSON.parse(newest.stdout).windows.map((w: { start: string }) => w.start),
      ['2026-11-28T11:00:00.000Z'],
    );

    const none = await run(['monitor', 'churn', '--version', '1']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no monitoring windows match these filters/);
  });
});

describe('monitor feedback', () => {
  test('one label with a predict key: accepted, then counted as a duplicate', async () => {
    const first = await run(
      ['monitor', 'feedback', 'churn', '--prediction-id', 'req_abc-1.0', '--label', 'yes'],
      predictEnv,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      'churn: 1 label accepted, 0 duplicates (a prediction keeps its first label)\n',
    );
    const again = await run(
      ['monitor', 'feedback', 'churn', '--prediction-id', 'req_abc-1.0', '--label', 'no', '--json'],
      predictEnv,
    );
    assert.deepEqual(JSON.parse(again.stdout), { accepted: 0, duplicates: 1 });
  });

  test('a JSON Lines file larger than one request goes in slices; standard input too', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ predictionId: `req_file-${i}.0`, label: i % 3 === 0 ? 'yes' : i }),
    );
    const file = join(running.dataDir, 'labels.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const r = await run(['monitor', 'feedback', 'churn', '--file', 'labels.ndjson']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^churn: 2500 labels accepted, 0 duplicates/);
    const again = await run(['monitor', 'feedback', 'churn', '--file', file, '--json']);
    assert.deepEqual(JSON.parse(again.stdout), { accepted: 0, duplicates: 2500 });

    const piped = await run(
      ['monitor', 'feedback', 'churn', '--file', '-'],
      predictEnv,
      Readable.from([
        '[{"predictionId":"req_pipe.0","label":true},',
        '{"predictionId":"req_pipe.1","label":2.5}]',
      ]),
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /2 labels accepted/);
  });

  test('usage problems exit 2 before any request; a refused id exits 1 naming the field', async () => {
    const file = join(running.dataDir, 'bad.ndjson');
    await writeFile(file, '{"predictionId":"req_x.0","label":"yes"}\n{"predictionId":"req_x.1"}\n');
    const bad = await run(['monitor', 'feedback', 'churn', '--file', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /line 2: label must be/);
    const both = await run(['monitor', 'feedback', 'churn', '--file', file, '--label', 'x']);
    assert.equal(both.code, 2);
    const half = await run(['monitor', 'feedback', 'churn', '--label', 'x']);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--prediction-id/);
    const refused = await run([
      'monitor',
      'feedback',
      'churn',
      '--prediction-id',
      'not an id',
      '--label',
      '1',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^ {2}predictionId: /m);
  });
});

describe('monitor policy', () => {
  test('none yet, put, show, a refused schedule, delete', async () => {
    const none = await run(['monitor', 'policy', 'churn']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'churn has no retraining policy (set one with trigger flags)\n');

    const put = await run([
      'monitor',
      'policy',
      'churn',
      '--on-drift',
      '--on-performance-drop',
      '0.05',
      '--schedule',
      '0 3 * * 1',
      '--cooldown-hours',
      '12',
    ]);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /^on drift:\s+yes$/m);
    assert.match(put.stdout, /^on performance drop:\s+0\.05$/m);
    assert.match(put.stdout, /^on new rows:\s+-$/m);
    assert.match(put.stdout, /^schedule:\s+0 3 \* \* 1 \(UTC\)$/m);
    assert.match(put.stdout, /^promote margin:\s+0\.005 \(default\)$/m);
    assert.match(put.stdout, /^cooldown hours:\s+12$/m);

    const shown = await run(['monitor', 'policy', 'churn', '--json']);
    const view = JSON.parse(shown.stdout);
    assert.deepEqual(view.policy, {
      onDrift: true,
      onPerformanceDrop: 0.05,
      schedule: '0 3 * * 1',
      cooldownHours: 12,
    });
    assert.equal(view.lastFiredAt, null);

    // Flags replace the whole policy.
    const replaced = await run(['monitor', 'policy', 'churn', '--on-new-rows', '500', '--json']);
    assert.deepEqual(JSON.parse(replaced.stdout).policy, { onNewRows: 500 });

    const refused = await run(['monitor', 'policy', 'churn', '--schedule', '61 * * * *']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error validation_failed/m);
    assert.match(refused.stderr, /^ {2}schedule: minute/m);

    const deleted = await run(['monitor', 'policy', 'churn', '--delete']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'churn: retraining policy removed\n');
    const gone = await run(['monitor', 'policy', 'churn']);
    assert.match(gone.stdout, /has no retraining policy/);
    const again = await run(['monitor', 'policy', 'churn', '--delete']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error not_found/m);
  });

  test('--delete with a trigger is a usage error; a missing model is not_found; a predict key is forbidden', async () => {
    const mixed = await run(['monitor', 'policy', 'churn', '--delete', '--on-drift']);
    assert.equal(mixed.code, 2);
    const missing = await run(['monitor', 'policy', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error not_found/m);
    const predict = await run(['monitor', 'policy', 'churn', '--on-drift'], predictEnv);
    assert.equal(predict.code, 1);
    assert.match(predict.stderr, /^error forbidden/m);
  });
});
