// Every CLI command run in-process (fast) against the real platform on a socket, plus a tiny stand-in
// server for answers the platform does not give on demand (a broken audit chain, a proxy error page).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { serverEnv } from '../../src/cli/commands/serve.ts';
import { resolveSettings } from '../../src/cli/context.ts';
import { table } from '../../src/cli/output.ts';
import { loadConfig } from '../../src/core/config.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { cliInProcess } from './cli-helpers.ts';

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  argv: string[],
  env: Record<string, string | undefined>,
  opts: { cwd?: string; stdin?: NodeJS.ReadableStream } = {},
): Promise<Out> {
  const r = await cliInProcess(argv, env, { cwd: opts.cwd, stdin: opts.stdin });
  assert.equal(r.keepRunning, false);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

let dataDir: string;
let running: TestServer;
let env: Record<string, string>;

before(async () => {
  running = await startTestServer('tenantml-cli-cmd-');
  dataDir = running.dataDir;
  env = { TENANTML_URL: running.url, TENANTML_DATA_DIR: dataDir };
});

after(async () => {
  await running?.close();
});

describe('client settings', () => {
  test('flags beat the environment, which beats the key file; the default URL', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tenantml-cli-cwd-'));
    try {
      await mkdir(join(cwd, 'data'));
      await writeFile(join(cwd, 'data', 'admin.key'), 'from-file\n');
      const io = (e: Record<string, string>) => ({ env: e, cwd });
      assert.deepEqual(resolveSettings({}, io({})), {
        baseUrl: 'http://localhost:8080',
        apiKey: 'from-file',
        tenantId: undefined,
        keySource: join(cwd, 'data', 'admin.key'),
      });
      assert.equal(resolveSettings({}, io({ TENANTML_ADMIN_KEY: 'admin-env' })).apiKey, 'admin-env');
      assert.equal(
        resolveSettings({}, io({ TENANTML_ADMIN_KEY: 'admin-env', TENANTML_API_KEY: 'api-env' })).apiKey,
        'api-env',
      );
      const s = resolveSettings(
        { key: 'flag', url: 'http://a:1', tenant: 't1' },
        io({ TENANTML_API_KEY: 'api-env', TENANTML_URL: 'http://b:2', TENANTML_TENANT: 't2' }),
      );
      assert.deepEqual([s.apiKey, s.baseUrl, s.tenantId, s.keySource], ['flag', 'http://a:1', 't1', '--key']);
      const e = resolveSettings(
        {},
        io({ TENANTML_URL: 'http://b:2', TENANTML_TENANT: 't2', TENANTML_DATA_DIR: 'nope' }),
      );
      assert.deepEqual([e.apiKey, e.baseUrl, e.tenantId], [undefined, 'http://b:2', 't2']);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  test('start ignores the client variables a shell may also hold; its flags override the server ones', () => {
    const shell = {
      TENANTML_URL: 'http://example.invalid',
      TENANTML_API_KEY: 'x',
      TENANTML_TENANT: 'acme',
      TENANTML_PORT: '1',
      TENANTML_LOG_LEVEL: 'warn',
    };
    const envForServer = serverEnv(shell, { port: '0', host: '127.0.0.1', dataDir: 'srv' });
    assert.deepEqual(envForServer, {
      ...shell,
      TENANTML_PORT: '0',
      TENANTML_HOST: '127.0.0.1',
      TENANTML_DATA_DIR: 'srv',
    });
    const config = loadConfig(envForServer, '/opt/tml');
    assert.deepEqual([config.port, config.host, config.dataDir], [0, '127.0.0.1', '/opt/tml/srv']);
    assert.deepEqual(serverEnv(shell, {}).TENANTML_PORT, '1');
  });

  test('the embedded key file is found relative to the working folder', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'tenantml-cli-cwd-'));
    try {
      await mkdir(join(cwd, 'data'));
      await writeFile(join(cwd, 'data', 'admin.key'), await readFile(join(dataDir, 'admin.key')));
      const ok = await run(['tenants', 'list'], { TENANTML_URL: running.url }, { cwd });
      assert.equal(ok.code, 0, ok.stderr);

      const none = await run(
        ['tenants', 'list'],
        { TENANTML_URL: running.url, TENANTML_DATA_DIR: 'empty' },
        { cwd },
      );
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^error unauthenticated: /m);
      assert.match(none.stderr, /hint: no API key/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('tenants and keys', () => {
  test('create, get, update, delete with readable output', async () => {
    const created = await run(
      [
        'tenants',
        'create',
        'Umbrella',
        '--id',
        'umbrella',
        '--tier',
        'premium',
        '--quota',
        'datasets=7',
        '--quota',
        'queuedJobs=0',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^id:\s+umbrella$/m);
    assert.match(created.stdout, /^tier:\s+premium$/m);
    assert.match(created.stdout, /^datasets\s+7\s+override$/m);
    assert.match(created.stdout, /^queuedJobs\s+0\s+override$/m);
    assert.match(created.stdout, /^rowsPerDataset\s+\d+\s+tier$/m);

    const on = await run(['tenants', 'update', 'umbrella', '--shared-training'], env);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /^shared training:\s+yes$/m);
    const off = await run(['tenants', 'update', 'umbrella', '--no-shared-training', '--json'], env);
    assert.equal(JSON.parse(off.stdout).sharedTraining, false);

    const got = await run(['tenants', 'get', 'umbrella'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^CONSENT CHANGED\s+SHARED TRAINING\s+BY$/m);
    // Creation records the initial consent too; the two changes follow it in order.
    const consent = [...got.stdout.matchAll(/\s(yes|no)\s+operator$/gm)].map((m) => m[1]);
    assert.deepEqual(consent.slice(-2), ['yes', 'no']);

    const nothing = await run(['tenants', 'update', 'umbrella'], env);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /^error usage: nothing to change/m);

    const unconfirmed = await run(['tenants', 'delete', 'umbrella'], env);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /--yes/);
    const deleted = await run(['tenants', 'delete', 'umbrella', '--yes'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'deleted tenant umbrella\n');
    const gone = await run(['tenants', 'get', 'umbrella'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error not_found: /m);
  });

  test('server validation errors print one line per field', async () => {
    const bad = await run(['tenants', 'create', 'X', '--id', 'Not Valid'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error validation_failed: /m);
    assert.match(bad.stderr, /^ {2}id: /m);
    assert.match(bad.stderr, /^ {2}request id: \S+$/m);
  });

  test('usage errors exit 2 before any request', async () => {
    const cases: string[][] = [
      ['tenants', 'create', 'X', '--quota', 'datasets'],
      ['tenants', 'create', 'X', '--quota', 'bogus=1'],
      ['tenants', 'create', 'X', '--tier', 'gold'],
      ['keys', 'create', 'acme'],
      ['keys', 'revoke', 'acme'],
      ['audit', 'list', '--limit', 'ten'],
      ['tenants', 'frobnicate'],
      ['tenants'],
      [],
    ];
    for (const argv of cases) {
      const r = await run(argv, { TENANTML_URL: 'http://127.0.0.1:9' });
      assert.equal(r.code, 2, `${argv.join(' ')} → ${r.code}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /network_error/, argv.join(' '));
    }
    const badUrl = await run(['tenants', 'list'], { TENANTML_URL: 'localhost:8080' });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /^error usage: --url \/ TENANTML_URL must be an http/m);
    assert.equal((await run(['--help'], {})).code, 0);
    assert.match((await run(['--version'], {})).stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('keys: create shows the secret once, list never shows it', async () => {
    assert.equal((await run(['tenants', 'create', 'Hooli', '--id', 'hooli'], env)).code, 0);
    const k = await run(['keys', 'create', 'hooli', '--role', 'predict'], env);
    assert.equal(k.code, 0, k.stderr);
    const secret = /^key:\s+(\S+)$/m.exec(k.stdout)?.[1];
    assert.ok(secret);
    assert.match(k.stderr, /shown this once/);
    const list = await run(['keys', 'list', 'hooli'], env);
    assert.match(list.stdout, /^ID\s+ROLE\s+CREATED\s+CREATED BY\s+LAST USED\s+REVOKED$/m);
    assert.match(list.stdout, /predict\s+\S+ \S+\s+operator\s+-\s+-$/m);
    assert.ok(!list.stdout.includes(secret));
  });
});

describe('datasets and audit', () => {
  test('upload from a file and from standard input, list, get, delete', async () => {
    assert.equal((await run(['tenants', 'create', 'Pied Piper', '--id', 'piper'], env)).code, 0);
    const t = { ...env, TENANTML_TENANT: 'piper' };
    const file = join(dataDir, 'people.json');
    await writeFile(
      file,
      JSON.stringify([
        { age: 31, plan: 'pro' },
        { age: 45, plan: 'free' },
        { age: null, plan: 'pro' },
      ]),
    );
    const up = await run(['datasets', 'upload', 'people', file], t);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^format:\s+json$/m);
    assert.match(up.stdout, /^age\s+integer\s+yes\s+1\s+2\s+no$/m);

    const piped = await run(['datasets', 'upload', 'people', '-', '--format', 'ndjson', '--json'], t, {
      stdin: Readable.from(['{"age": 1, "plan": "x"}\n', '{"age": 2, "plan": "y"}\n']),
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual([JSON.parse(piped.stdout).version, JSON.parse(piped.stdout).rows], [2, 2]);

    const noFormat = await run(['datasets', 'upload', 'people', '-'], t, { stdin: Readable.from(['a\n']) });
    assert.equal(noFormat.code, 2);
    const unknownExt = await run(['datasets', 'upload', 'people', join(dataDir, 'admin.key')], t);
    assert.equal(unknownExt.code, 2);
    assert.match(unknownExt.stderr, /cannot tell the format/);
    const missing = await run(['datasets', 'upload', 'people', join(dataDir, 'nope.csv')], t);
    assert.equal(missing.code, 2);

    const list = await run(['datasets', 'list'], t);
    assert.match(list.stdout, /^people\s+2\s+2\s+\d{4}-/m);
    const got = await run(['datasets', 'get', 'people'], t);
    assert.match(got.stdout, /^latest version:\s+2$/m);
    assert.match(got.stdout, /^preview of version 2:$/m);
    assert.match(got.stdout, /^1\s+x$/m);

    const del = await run(['datasets', 'delete', 'people'], t);
    assert.equal(del.stdout, 'deleted dataset people\n');
    assert.match((await run(['datasets', 'get', 'people'], t)).stderr, /^error not_found: /m);
  });

  test('a parse error names its line; the operator needs a tenant for dataset routes', async () => {
    const file = join(dataDir, 'bad.csv');
    await writeFile(file, 'a,b\n1,2\n3,4,5\n');
    const bad = await run(['--tenant', 'piper', 'datasets', 'upload', 'bad', file], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error dataset_parse_error: /m);
    assert.match(bad.stderr, /^ {2}\S+ \(line 3\): /m);

    const noTenant = await run(['datasets', 'list'], env);
    assert.equal(noTenant.code, 1);
    assert.match(noTenant.stderr, /^error tenant_header_required: /m);
    assert.match(noTenant.stderr, /hint: name the tenant with --tenant/);
  });

  test('audit list, narrowed and verified; health', async () => {
    const all = await run(['audit', 'list', '--limit', '1000'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^SEQ\s+AT\s+TENANT\s+ACTOR\s+ROLE\s+ACTION\s+TARGET\s+OUTCOME$/m);
    assert.match(all.stdout, /\stenant\.create\s+piper\s+ok$/m);

    const verified = await run(['audit', 'list', '--tenant', 'piper', '--verify'], env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /chain verified: intact/);
    assert.doesNotMatch(verified.stdout, /\shooli\s/);

    const needsTenant = await run(['audit', 'list', '--verify'], env);
    assert.equal(needsTenant.code, 1);
    assert.match(needsTenant.stderr, /^ {2}tenant: /m);

    const health = await run(['health', '--json'], env);
    assert.equal(health.code, 0, health.stderr);
    assert.deepEqual(JSON.parse(health.stdout).ready, { ok: true, status: 'ready' });
  });
});

describe('answers the platform does not give on demand', () => {
  let server: Server;
  let url: string;
  let reply: (res: import('node:http').ServerResponse) => void;

  before(async () => {
    server = createServer((_req, res) => reply(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('a broken audit chain exits 1 after printing the entries', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ entries: [], verified: { ok: false, brokenAt: 3, reason: 'hash mismatch' } }));
    };
    const r = await run(['audit', 'list', '--verify', '--tenant', 'x', '--key', 'k'], { TENANTML_URL: url });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /chain verification FAILED at seq 3: hash mismatch/);
  });

  test('a proxy page and a dead server', async () => {
    reply = (res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    };
    const proxy = await run(['tenants', 'list', '--key', 'k'], { TENANTML_URL: url });
    assert.equal(proxy.code, 1);
    assert.match(proxy.stderr, /^error unexpected_response: HTTP 502 Bad Gateway: <h1>Bad gateway<\/h1>$/m);

    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((r) => probe.close(r));
    const dead = await run(['tenants', 'list', '--key', 'k', '--url', closed], {});
    assert.equal(dead.code, 1);
    assert.equal(dead.stderr.split('\n')[0], `error network_error: could not reach ${closed}: ECONNREFUSED`);
    assert.match(dead.stderr, /hint: is the server running/);
  });

  test('tables: aligned columns, dashes for nothing, no line breaks inside a cell', () => {
    assert.equal(
      table(
        ['A', 'LONGER', 'C'],
        [
          ['x', null, 'multi\nline'],
          ['yy', true, '2026-01-02T03:04:05.678Z'],
        ],
      ),
      'A   LONGER  C\nx   -       multi line\nyy  yes     2026-01-02 03:04:05Z\n',
    );
  });
});
