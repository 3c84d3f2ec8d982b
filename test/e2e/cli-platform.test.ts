// The `tenantml` command as a user runs it: a child process against the real platform on a socket.
// The operator key is found in the data folder with no flag; a revoked key answers `unauthenticated`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// Children run in temp folders, where a bare `--import tsx` would not resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(ROOT, 'src/cli/main.ts');

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TENANTML_') && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd, env: cleanEnv(env), timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dataDir: string;
let running: TestServer;
let env: Record<string, string>;

before(async () => {
  running = await startTestServer('tenantml-cli-e2e-');
  dataDir = running.dataDir;
  // No key anywhere: the CLI must find <TENANTML_DATA_DIR>/admin.key by itself.
  env = { TENANTML_URL: running.url, TENANTML_DATA_DIR: dataDir };
});

after(async () => {
  await running?.close();
});

describe('tenantml CLI on the real platform', () => {
  test('tenant, key, upload, list, revoke; the revoked key is refused', async () => {
    const created = await cli(['tenants', 'create', 'Acme Corp', '--id', 'acme', '--json'], env, dataDir);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).id, 'acme');

    const keyRun = await cli(['keys', 'create', 'acme', '--role', 'admin', '--json'], env, dataDir);
    assert.equal(keyRun.code, 0, keyRun.stderr);
    const key = JSON.parse(keyRun.stdout) as { id: string; key: string };
    const tenantEnv = { ...env, TENANTML_API_KEY: key.key };

    const csv = join(dataDir, 'iris.csv');
    await writeFile(csv, 'sepal,petal,species\n5.1,1.4,setosa\n6.2,4.5,versicolor\n');
    const up = await cli(['datasets', 'upload', 'iris', 'iris.csv'], tenantEnv, dataDir);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^rows:\s+2$/m);
    assert.match(up.stdout, /^species\s+categorical/m);

    // The operator acting on the tenant sees the same dataset.
    const ds = await cli(['datasets', 'list', '--json', '--tenant', 'acme'], env, dataDir);
    assert.equal(ds.code, 0, ds.stderr);
    assert.deepEqual(
      (JSON.parse(ds.stdout) as { name: string; latestVersion: number }[]).map((d) => [
        d.name,
        d.latestVersion,
      ]),
      [['iris', 1]],
    );

    const revoked = await cli(['keys', 'revoke', 'acme', key.id], env, dataDir);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked key ${key.id}`));

    const refused = await cli(['datasets', 'list'], tenantEnv, dataDir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error unauthenticated: /m);
    assert.equal(refused.stdout, '');
  });
});
