// `tenantml worker` as an operator runs it: a platform serves the API with no workers
// (TENANTML_WORKER_SLOTS=0), a separate worker process on the same data folder (SQLite) trains the job
// that waits in the queue, and SIGTERM stops the worker with exit code 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cleanEnv, cli, leadsCsv, MAIN, TSX } from './cli-helpers.ts';

let dataDir: string;
let running: TestServer;
let tenant: TenantmlClient;

before(async () => {
  running = await startTestServer('tenantml-cli-worker-', { TENANTML_WORKER_SLOTS: '0' });
  dataDir = running.dataDir;
  assert.equal(running.platform.workers, null, 'the API process runs no workers');
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'acme', name: 'Acme' });
  tenant = new TenantmlClient({
    baseUrl: running.url,
    apiKey: (await operator.keys.create('acme', 'admin')).key,
  });
  await tenant.datasets.upload('leads', leadsCsv(1000));
});

after(async () => {
  await running?.close();
});

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });

test('a worker process trains the queued job to success, then stops on SIGTERM with exit 0', async () => {
  const job = await tenant.models.train('churn', { dataset: 'leads', target: 'label', algorithm: 'linear' });
  // Nobody is working: the job stays queued.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await tenant.jobs.get(job.id)).state, 'queued');

  const worker = spawn(process.execPath, ['--import', TSX, MAIN, 'worker'], {
    cwd: dataDir,
    env: cleanEnv({
      TENANTML_DATA_DIR: dataDir,
      TENANTML_WORKER_SLOTS: '1',
      TENANTML_LOG_LEVEL: 'info',
      // Client variables in the same shell are not the worker's business.
      TENANTML_URL: 'http://example.invalid',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  worker.stdout?.on('data', (d) => {
    output += d;
  });
  worker.stderr?.on('data', (d) => {
    output += d;
  });
  try {
    const done = await tenant.jobs.wait(job.id, { timeoutMs: 25_000 });
    assert.equal(done.state, 'succeeded', `${done.error}\n${output}`);
    assert.deepEqual(done.result, { model: 'churn', version: 1 });
    assert.match(output, /tenantml worker: 1 slot on sqlite/);
    assert.match(output, new RegExp(`"jobId":"${done.id}".*"msg":"worker: job claimed"`));
    assert.equal((await tenant.models.get('churn')).liveVersion, 1);

    worker.kill('SIGTERM');
    assert.equal(await exited(worker), 0, output);
    assert.match(output, /SIGTERM: stopping/);
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
});

test('a worker refuses zero slots and a bad setting with exit 2, naming the variable', async () => {
  const [zero, bad] = await Promise.all([
    cli(['worker', '--slots', '0'], { TENANTML_DATA_DIR: dataDir }, dataDir),
    cli(['worker'], { TENANTML_DATA_DIR: dataDir, TENANTML_WORKER_SLOTS: 'many' }, dataDir),
  ]);
  assert.equal(zero.code, 2, zero.stderr);
  assert.match(zero.stderr, /TENANTML_WORKER_SLOTS must be at least 1/);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /TENANTML_WORKER_SLOTS/);
});
