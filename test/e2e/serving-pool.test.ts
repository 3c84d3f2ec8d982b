// A serving pool as an operator runs it: `tenantml start` with TENANTML_SERVE_PROCESSES=2 (real processes,
// one real port). The pool's API processes spend one rate budget per tenant (held by the primary), a
// scrape of /metrics sums the whole pool (the primary's training workers included), an API process that
// dies is replaced while the others serve, and SIGTERM to the primary stops them all with exit code 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { mintTenantScope, SYSTEM } from '../../src/core/scope.ts';
import { createPlatform } from '../../src/platform.ts';
import { freePort } from '../helpers/ports.ts';
import { registerTrained, trainTiny } from '../integration/inference/fixtures.ts';
import { cleanEnv, MAIN, TSX } from './cli-helpers.ts';

/** The pids of `pid`'s child processes running the CLI (the pool's API processes; not parity probes). */
function apiProcesses(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('main.ts')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort();
}

/** One request on a connection of its own (the pool hands connections to its processes in turn). */
function once(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.end(body);
  });
}

/**
 * Runs node with `argv` (the CLI's `start`, or a script of the test's) on `dataDir` and `port` with a pool
 * of 2 and no training workers unless `env` says otherwise; its standard output and error in one string.
 */
function launch(
  argv: string[],
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, argv, {
    cwd: dataDir,
    env: cleanEnv({
      TENANTML_DATA_DIR: dataDir,
      TENANTML_HOST: '127.0.0.1',
      TENANTML_PORT: String(port),
      TENANTML_LOG_LEVEL: 'warn',
      TENANTML_SERVE_PROCESSES: '2',
      TENANTML_WORKER_SLOTS: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

const START = ['--import', TSX, MAIN, 'start'];

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('serving pool (TENANTML_SERVE_PROCESSES=2)', () => {
  let dataDir: string;
  let port: number;
  let adminKey: string;
  let predictKey: string;
  let primary: ChildProcess;
  let output: () => string = () => '';

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tenantml-pool-'));
    // The data folder prepared by a platform of its own: a tenant whose bucket holds 5 requests (1/s,
    // burst 5 s), its predict key, a live model.
    const config = loadConfig(
      { TENANTML_DATA_DIR: dataDir, TENANTML_LOG_LEVEL: 'silent', TENANTML_WORKER_SLOTS: '0' },
      dataDir,
    );
    const platform = await createPlatform(config);
    adminKey = platform.adminKey;
    const op = { authorization: `Bearer ${adminKey}` };
    const t = await platform.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: op,
      payload: { id: 'pool-t', name: 'Pool', quotaOverrides: { requestsPerSecond: 1 } },
    });
    assert.equal(t.statusCode, 201, t.body);
    const k = await platform.app.inject({
      method: 'POST',
      url: '/v1/tenants/pool-t/keys',
      headers: op,
      payload: { role: 'predict' },
    });
    predictKey = k.json().key;
    await registerTrained(platform, mintTenantScope('pool-t', SYSTEM), 'churn', trainTiny());
    await platform.close();

    port = await freePort();
    const launched = launch(START, dataDir, port, {
      TENANTML_LOG_LEVEL: 'info', // the primary's lines say when an API process listens
      TENANTML_WORKER_SLOTS: '1',
      TENANTML_RATE_LIMIT_HOLD_MS: '0',
      TENANTML_RATE_LIMIT_BURST_SECONDS: '5',
      // Generous: on a busy machine (the whole suite at once) a late answer would be counted in memory.
      TENANTML_REDIS_TIMEOUT_MS: '5000',
    });
    primary = launched.child;
    output = launched.output;
    await until('the pool serving', 60_000, () => {
      if (primary.exitCode !== null) assert.fail(`the primary exited (${primary.exitCode}):\n${output()}`);
      return /serving on http:\/\/127\.0\.0\.1:\d+ \(2 API processes\)/.test(output()) || undefined;
    });
  });

  after(async () => {
    if (primary && primary.exitCode === null) primary.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const predict = () =>
    once(
      port,
      'POST',
      '/v1/models/churn/predict',
      { authorization: `Bearer ${predictKey}`, 'content-type': 'application/json' },
      JSON.stringify({ instances: [{ x: 0.8, n: 2, color: 'blue' }] }),
    );

  test("the pool's processes spend one budget: 5 of 10 predictions on alternating processes, then 429", async () => {
    assert.equal(apiProcesses(primary.pid!).length, 2);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await predict());
    const ok = results.filter((r) => r.status === 200).length;
    // Each process alone would admit the 5 it sees; a second's refill may add one.
    assert.ok(ok >= 5 && ok <= 6, `admitted ${ok} of 10: ${results.map((r) => r.status).join(',')}`);
    const refused = results.find((r) => r.status === 429)!;
    assert.equal(JSON.parse(refused.body).code, 'rate_limited');
    assert.ok(refused.headers['retry-after']);
    assert.equal(refused.headers['ratelimit-remaining'], '0');
  });

  test('a scrape sums the pool: requests counted by both processes, the primary’s worker slots', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await once(port, 'GET', '/healthz', {})).status, 200);
    const r = await once(port, 'GET', '/metrics', { authorization: `Bearer ${adminKey}` });
    assert.equal(r.status, 200, r.body);
    const healthz =
      /^tenantml_http_requests_total\{method="GET",route="\/healthz",status="200"\} (\d+)$/m.exec(r.body);
    assert.equal(Number(healthz?.[1]), 6, 'one process alone would show about half');
    assert.match(r.body, /^tenantml_worker_slots 1$/m);
    assert.match(r.body, /^tenantml_predict_requests_total\{.*\} \d+$/m);
  });

  test('an API process killed is replaced; the other serves meanwhile', async () => {
    const [victim, survivor] = apiProcesses(primary.pid!);
    process.kill(victim!, 'SIGKILL');
    // Once the primary has seen the exit (a connection handed to the process in the instant it died is
    // lost with it: node:cluster's round robin), every connection goes to the survivor.
    await until('the exit noticed', 20_000, () =>
      /API process exited; replacing/.test(output()) ? true : undefined,
    );
    for (let i = 0; i < 4; i++) assert.equal((await once(port, 'GET', '/healthz', {})).status, 200);
    const now = await until('a replacement', 20_000, () => {
      const ps = apiProcesses(primary.pid!);
      return ps.length === 2 && !ps.includes(victim!) ? ps : undefined;
    });
    assert.ok(now.includes(survivor!));
    await until('the replacement listening', 30_000, () =>
      (output().match(/serving pool: API process listening/g) ?? []).length === 3 ? true : undefined,
    );
    for (let i = 0; i < 4; i++) assert.equal((await once(port, 'GET', '/healthz', {})).status, 200);
  });

  test('SIGTERM to the primary stops every process, exit code 0', async () => {
    const children = apiProcesses(primary.pid!);
    const exit = new Promise<number | null>((r) => primary.once('exit', (code) => r(code)));
    primary.kill('SIGTERM');
    assert.equal(await exit, 0, output());
    for (const pid of children) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});

test('a pool whose API processes cannot listen (the port is taken) exits 1 and leaves no process behind', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-pool-taken-'));
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as { port: number }).port;
  try {
    const { child, output: err } = launch(START, dataDir, port);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 1, err());
    assert.match(err(), /EADDRINUSE/);
    assert.match(err(), /API process \d exited \(code 1\) before it listened/);
    assert.deepEqual(apiProcesses(child.pid!), []);
  } finally {
    taken.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a process forked by another node:cluster primary (pm2’s cluster mode) serves as a whole platform', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-pool-foreign-'));
  const port = await freePort();
  // A cluster primary that is not tenantml's: it forks `tenantml start` as its worker.
  const primaryScript = join(dataDir, 'foreign-primary.mjs');
  await writeFile(
    primaryScript,
    `import cluster from 'node:cluster';
cluster.setupPrimary({ exec: ${JSON.stringify(MAIN)}, args: ['start'], execArgv: ['--import', ${JSON.stringify(TSX)}] });
cluster.fork();
process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM'); });
`,
  );
  const { child, output: out } = launch([primaryScript], dataDir, port);
  try {
    await until('serving', 60_000, () => {
      if (child.exitCode !== null) assert.fail(`exited: ${out()}`);
      return /tenantml is serving on http:\/\/127\.0\.0\.1:\d+\n/.test(out()) || undefined;
    });
    assert.doesNotMatch(out(), /API processes/);
    const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const t0 = Date.now();
    const r = await once(port, 'GET', '/metrics', { authorization: `Bearer ${adminKey}` });
    assert.equal(r.status, 200, r.body);
    assert.ok(Date.now() - t0 < 3000, 'answered from its own registry, not after waiting for a pool');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }
});
