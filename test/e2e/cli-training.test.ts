// Training from the `tenantml` command on the real platform with one worker slot: `train --watch` as a
// child process prints progress and exits 0; `jobs list` shows the job; `jobs cancel` on a job queued
// behind another cancels it; `jobs watch` on a cancelled job exits 1. Then the drawing itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobView } from '../../src/api/schemas.ts';
import { parseParam } from '../../src/cli/commands/train.ts';
import { CLI_VERSION } from '../../src/cli/program.ts';
import { formatEta, formatMetric, ProgressPrinter, progressLine } from '../../src/cli/progress.ts';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cli, cliInProcess, leadsCsv, type Run } from './cli-helpers.ts';

/** The CLI in this process (fast), for output that needs no separate process. */
async function inProcess(argv: string[], env: Record<string, string>): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env);
  return { code, stdout, stderr };
}

let dataDir: string;
let running: TestServer;
let env: Record<string, string>;
let sdk: TenantmlClient;

before(async () => {
  running = await startTestServer('tenantml-cli-train-', { TENANTML_WORKER_SLOTS: '1' });
  dataDir = running.dataDir;
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'acme', name: 'Acme' });
  // The operator key (found in the data folder) acting on the tenant, as `--tenant acme` would.
  env = { TENANTML_URL: running.url, TENANTML_DATA_DIR: dataDir, TENANTML_TENANT: 'acme' };
  sdk = operator.withTenant('acme');
  await sdk.datasets.upload('leads', leadsCsv(4000));
});

after(async () => {
  await running?.close();
});

describe('tenantml train and jobs on the real platform', () => {
  test('train --watch prints progress, one line per change, and exits 0; jobs list shows the job', async () => {
    const r = await cli(
      [
        'train',
        'churn',
        '--dataset',
        'leads',
        '--target',
        'label',
        '--algorithm',
        'gbdt',
        '--param',
        'nRounds=300',
        '--param',
        'earlyStoppingRounds=0',
        '--seed',
        '11',
        '--watch',
      ],
      env,
      dataDir,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const id = /^job (\S+) queued for model churn$/.exec(lines[0])?.[1];
    assert.ok(id, r.stdout);
    assert.ok(lines.includes('queued  waiting for a worker') || lines[1].startsWith('running'), r.stdout);
    assert.ok(
      lines.some((l) => l.startsWith('running  ')),
      r.stdout,
    );
    assert.match(lines.at(-1) ?? '', /^succeeded {2}churn version 1 {2}in \d+(\.\d)? s, CPU \d+(\.\d)? s$/);
    assert.ok(!r.stdout.includes('\r'), 'no carriage returns when stdout is not a terminal');
    for (let i = 1; i < lines.length; i++) assert.notEqual(lines[i], lines[i - 1], 'a line per change');

    const job = await sdk.jobs.get(id);
    assert.deepEqual(job.spec.params, { nRounds: 300, earlyStoppingRounds: 0 });
    assert.equal(job.spec.seed, 11);

    const list = await cli(['jobs', 'list'], env, dataDir);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^ID\s+MODEL\s+STATE\s+PROGRESS\s+ATTEMPTS\s+RESULT\s+CREATED\s+FINISHED\s+ERROR$/m,
    );
    assert.match(list.stdout, new RegExp(`^${id}\\s+churn\\s+succeeded\\s+-\\s+1/3\\s+version 1\\s`, 'm'));

    // show, models list/show: same client code path, run in-process.
    const show = await inProcess(['jobs', 'show', id], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^state:\s+succeeded$/m);
    assert.match(show.stdout, /^params:\s+\{"nRounds":300,"earlyStoppingRounds":0\}$/m);
    assert.match(show.stdout, /^result:\s+churn version 1$/m);
    const models = await inProcess(['models', 'list'], env);
    assert.match(models.stdout, /^churn\s+1\s+1\s+1\s+\d{4}-/m);
    const model = await inProcess(['models', 'show', 'churn'], env);
    assert.equal(model.code, 0, model.stderr);
    assert.match(model.stdout, /^live version:\s+1$/m);
    assert.match(
      model.stdout,
      new RegExp(
        `^1\\s+yes\\s+tenant\\s+binary\\s+gbdt\\s+acme/leads@1 \\(4000 rows\\)\\s+-\\s+${id}\\s`,
        'm',
      ),
    );
    assert.match(model.stdout, /^validation metrics of version 1:$/m);
    assert.match(model.stdout, /^accuracy\s+0\.\d+$/m);
    const json = await inProcess(['models', 'show', 'churn', '--json'], env);
    assert.equal((JSON.parse(json.stdout) as { versionList: unknown[] }).versionList.length, 1);
  });

  test('jobs cancel on a job queued behind another cancels it; watching a cancelled job exits 1', async () => {
    // One slot: the first job runs (long), the second waits behind it.
    const first = await sdk.models.train('slow', {
      dataset: 'leads',
      target: 'label',
      algorithm: 'gbdt',
      params: { nRounds: 20_000, earlyStoppingRounds: 0 },
    });
    const second = await sdk.models.train('slow', { dataset: 'leads', target: 'label', algorithm: 'linear' });
    try {
      const cancel = await cli(['jobs', 'cancel', second.id], env, dataDir);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.equal(cancel.stdout, `job ${second.id} cancelled\n`);
      assert.equal((await sdk.jobs.get(second.id)).state, 'cancelled');
      const queuedList = await inProcess(['jobs', 'list', '--state', 'cancelled', '--json'], env);
      assert.deepEqual(
        (JSON.parse(queuedList.stdout) as JobView[]).map((j) => j.id),
        [second.id],
      );

      const watched = await inProcess(['jobs', 'watch', second.id], env);
      assert.equal(watched.code, 1);
      assert.match(watched.stdout, /^cancelled/m);
      assert.match(watched.stderr, new RegExp(`^job ${second.id} cancelled: `, 'm'));
    } finally {
      await sdk.jobs.cancel(first.id);
    }
    const firstDone = await sdk.jobs.wait(first.id, { timeoutMs: 10_000 });
    assert.equal(firstDone.state, 'cancelled');
  });

  test('usage errors exit 2, refusals 1; --version after train is the dataset version', async () => {
    const cases = [
      ['train', 'm', '--target', 'label'],
      ['train', 'm', '--dataset', 'd', '--target', 'y', '--param', 'noequals'],
      ['train', 'm', '--dataset', 'd', '--target', 'y', '--algorithm', 'forest'],
      ['train', 'm', '--dataset', 'd', '--target', 'y', '--priority', 'high'],
      ['jobs', 'list', '--state', 'sleeping'],
      ['jobs', 'show'],
      ['models', 'show'],
    ];
    for (const argv of cases) {
      const r = await inProcess(argv, { TENANTML_URL: 'http://127.0.0.1:9' });
      assert.equal(r.code, 2, `${argv.join(' ')} → ${r.code}\n${r.stderr}`);
    }
    // A server refusal names the field and exits 1.
    const bad = await inProcess(['train', 'm', '--dataset', 'leads', '--target', 'nope'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ {2}target: /m);
    // `--version` after `train` is the dataset version (not the program's version flag).
    const noVersion = await inProcess(
      ['train', 'm', '--dataset', 'leads', '--version', '9', '--target', 'label'],
      env,
    );
    assert.equal(noVersion.code, 1);
    assert.match(noVersion.stderr, /^error not_found: /m);
    const v1 = await inProcess(
      ['train', 'm', '--dataset', 'leads', '--version', '1', '--target', 'label', '--json'],
      env,
    );
    assert.equal(v1.code, 0, v1.stderr);
    const queued = JSON.parse(v1.stdout) as JobView;
    assert.equal(queued.spec.datasetVersion, 1);
    await sdk.jobs.cancel(queued.id);
    assert.equal((await inProcess(['--version'], {})).stdout, `${CLI_VERSION}\n`);
  });
});

describe('drawing progress', () => {
  const base = {
    id: 'job_1',
    kind: 'train',
    state: 'running',
    priority: 0,
    model: 'm',
    attempts: 1,
    maxAttempts: 3,
    cancelRequested: false,
    progress: null,
    cpuSeconds: 1.24,
    wallSeconds: 2.5,
    error: null,
    result: null,
  } as unknown as JobView;
  const at = '2026-01-01T00:00:00.000Z';

  test('the line: phase, bar, iterations, metric, ETA; queued, retried, finished', () => {
    assert.equal(
      progressLine({
        ...base,
        progress: {
          phase: 'training',
          iteration: 60,
          totalIterations: 240,
          metric: { name: 'valid_logloss', value: 0.123456 },
          etaSeconds: 65.2,
          at,
        },
      }),
      'running  training  [######------------------]  60/240  valid_logloss 0.1235  ETA 1m06s',
    );
    assert.equal(progressLine({ ...base, progress: { phase: 'loading', at } }), 'running  loading');
    assert.equal(
      progressLine({ ...base, attempts: 2, cancelRequested: true, progress: { phase: 'saving', at } }),
      'running  saving  attempt 2 of 3  (cancelling)',
    );
    assert.equal(progressLine({ ...base, state: 'queued', attempts: 0 }), 'queued  waiting for a worker');
    assert.equal(
      progressLine({ ...base, state: 'queued', attempts: 1 }),
      'queued  to retry (attempt 2 of 3)',
    );
    assert.equal(
      progressLine({ ...base, state: 'succeeded', result: { model: 'm', version: 4 } }),
      'succeeded  m version 4  in 2.5 s, CPU 1.2 s',
    );
    assert.equal(
      progressLine({ ...base, state: 'failed', error: 'out of memory (heap limit 256 MiB)' }),
      'failed  out of memory (heap limit 256 MiB)',
    );
    assert.deepEqual([formatEta(0.2), formatEta(59), formatEta(3600 * 2 + 240)], ['1s', '59s', '2h04m']);
    assert.deepEqual(
      [formatMetric(1234.5678), formatMetric(0.00001234), formatMetric(3)],
      ['1235', '1.234e-5', '3'],
    );
  });

  test('on a terminal the line is redrawn in place and cut to the width; elsewhere a line per change', () => {
    let tty = '';
    const onTerminal = new ProgressPrinter({ write: (s) => (tty += s), tty: true, columns: 30 });
    const step = (iteration: number) => ({
      ...base,
      progress: { phase: 'training' as const, iteration, totalIterations: 10, at },
    });
    onTerminal.update(step(1));
    onTerminal.update(step(1)); // unchanged: nothing drawn
    onTerminal.update(step(5));
    onTerminal.update({ ...base, state: 'succeeded', result: { model: 'm', version: 1 } });
    const frames = tty.split('\r').slice(1);
    assert.equal(frames.length, 3);
    for (const f of frames.slice(0, 2)) {
      assert.ok(f.endsWith('\x1b[K'));
      assert.ok(f.replace('\x1b[K', '').length <= 29, `${JSON.stringify(f)} fits 30 columns`);
    }
    assert.ok(tty.endsWith('\x1b[K\n'), 'the final state leaves the cursor on a new line');
    assert.equal((tty.match(/\n/g) ?? []).length, 1);

    let log = '';
    const inLog = new ProgressPrinter({ write: (s) => (log += s), tty: false });
    inLog.update(step(1));
    inLog.update(step(1));
    inLog.update(step(5));
    inLog.done();
    assert.equal(log.split('\n').length, 3);
    assert.ok(!log.includes('\r'));
  });

  test('--param values are JSON when they parse, else text', () => {
    let p = parseParam('nRounds=200');
    p = parseParam('learningRate=0.05', p);
    p = parseParam('balanced=true', p);
    p = parseParam('growPolicy=lossguide', p);
    p = parseParam('classWeight={"yes":2}', p);
    p = parseParam('note=a=b', p);
    assert.deepEqual(p, {
      nRounds: 200,
      learningRate: 0.05,
      balanced: true,
      growPolicy: 'lossguide',
      classWeight: { yes: 2 },
      note: 'a=b',
    });
    assert.throws(() => parseParam('=1'), /key=value/);
  });
});
