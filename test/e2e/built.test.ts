// The built form `npm start` runs (scripts/build.mjs → dist/, plain JavaScript, no tsx): the server
// starts from it, a training job runs in a child process started from the built child entry, and the
// model answers predictions (the prediction log's writer thread started from its built entry) — with
// no warning or error on standard error. The build leaves no `.ts` import behind and fails rather than doing so.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { freePort } from '../helpers/ports.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// Inside the project, so that the built files find node_modules as dist/ does.
const OUT = join(ROOT, `.test-build-${process.pid}`);
let cwd: string;
let child: ChildProcess | undefined;
let stderr = '';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

before(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), OUT, '--quiet'], { stdio: 'pipe' });
  cwd = mkdtempSync(join(tmpdir(), 'tenantml-built-'));
});

after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(OUT, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

test('the build mirrors src/ in .js files and no import still names a .ts file', () => {
  const built = files(OUT).filter((f) => f.endsWith('.js'));
  const sources = files(join(ROOT, 'src')).filter((f) => f.endsWith('.ts'));
  assert.equal(built.length, sources.length);
  for (const f of ['cli/main.js', 'jobs/child.js', 'services/inference/log-writer/worker.js'])
    assert.ok(existsSync(join(OUT, f)), f);
  for (const f of built) {
    const js = readFileSync(f, 'utf8');
    assert.doesNotMatch(js, /\b(?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"\n]+\.ts['"]/, f);
  }
  const stamp = JSON.parse(readFileSync(join(OUT, 'build.json'), 'utf8'));
  assert.equal(stamp.files, sources.length);
});

test('the built server trains in a built child process and predicts, with no warning or error on stderr', async () => {
  const port = await freePort();
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TENANTML_') && v !== undefined) clean[k] = v;
  child = spawn(process.execPath, [join(OUT, 'cli/main.js'), 'start'], {
    cwd,
    env: {
      ...clean,
      TENANTML_PORT: String(port),
      TENANTML_LOG_LEVEL: 'warn',
      TENANTML_WORKER_SLOTS: '1',
      TENANTML_PREDICTION_LOG_FLUSH_MS: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  let up = false;
  while (!up && Date.now() - started < 30_000 && child.exitCode === null) {
    up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(up, `no /healthz within 30 s; stderr:\n${stderr}`);
  const adminKey = readFileSync(join(cwd, 'data', 'admin.key'), 'utf8').trim();
  const operator = new TenantmlClient({ baseUrl: url, apiKey: adminKey });
  await operator.tenants.create({ id: 'built', name: 'Built' });
  const tenant = new TenantmlClient({
    baseUrl: url,
    apiKey: (await operator.keys.create('built', 'admin')).key,
  });
  const lines = ['x,colour,label'];
  for (let i = 0; i < 400; i++) {
    const x = (i * 37) % 101;
    lines.push(`${x},${['red', 'blue'][i % 2]},${x > 50 ? 'yes' : 'no'}`);
  }
  await tenant.datasets.upload('leads', `${lines.join('\n')}\n`);
  const job = await tenant.models.train('churn', { dataset: 'leads', target: 'label', algorithm: 'gbdt' });
  const done = await tenant.jobs.wait(job.id, { timeoutMs: 60_000 });
  assert.equal(done.state, 'succeeded', `job: ${done.error}; stderr:\n${stderr}`);
  const r = await tenant.models.predict('churn', [
    { x: 90, colour: 'blue' },
    { x: 5, colour: 'red' },
  ]);
  assert.deepEqual(
    r.predictions.map((p) => p.label),
    ['true', 'false'], // a yes/no column is read as a boolean
  );
  // The writer thread flushes every 100 ms: its file appears in the tenant's log folder.
  const own = join(cwd, 'data', 'artifacts', 'tenants', 'built');
  const logged = () => files(own).some((f) => f.includes('/predictions/churn/'));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !logged()) await new Promise((res) => setTimeout(res, 100));
  assert.ok(logged(), `no prediction log written; stderr:\n${stderr}`);
  child.kill('SIGTERM');
  const code = await new Promise((res) => child!.once('exit', res));
  assert.equal(code, 0);
  // Only the start's own lines: no warning, error or stack.
  const other = stderr
    .split('\n')
    .filter((l) => l && !/^(tenantml is serving on |operator key: |SIGTERM: closing)/.test(l));
  assert.deepEqual(other, [], stderr);
});
