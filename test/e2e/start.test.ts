// The quick start as a user runs it: `tenantml start` (what `npm start` runs, there from the build —
// test/e2e/built.test.ts — here from the source) with no configuration
// serves /healthz within 30 seconds, generates the operator key with mode 0600, and stops cleanly on
// SIGTERM. A bad setting stops it at once with a message naming the variable.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort } from '../helpers/ports.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
// The child runs in a fresh folder, where a bare `--import tsx` would not resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

function startCli(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('TENANTML_') && v !== undefined) clean[k] = v;
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), 'start'], {
    cwd,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });

test('start with no configuration serves /healthz, keeps the operator key at 0600, and stops on SIGTERM', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tenantml-start-'));
  const port = await freePort();
  const { child, output } = startCli({ TENANTML_PORT: String(port), TENANTML_LOG_LEVEL: 'warn' }, cwd);
  try {
    const started = Date.now();
    let healthy = false;
    while (Date.now() - started < 30_000 && child.exitCode === null) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (r.status === 200 && ((await r.json()) as { status?: string }).status === 'ok') {
          healthy = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(healthy, `no /healthz within 30 s; output:\n${output()}`);
    const keyFile = join(cwd, 'data', 'admin.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(output(), /admin\.key/);
    const key = readFileSync(keyFile, 'utf8').trim();
    const tenants = await fetch(`http://127.0.0.1:${port}/v1/tenants`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(tenants.status, 200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('a bad setting stops the start with exit code 2 and names the variable', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tenantml-start-'));
  const { child, output } = startCli({ TENANTML_PORT: 'not-a-port' }, cwd);
  try {
    assert.equal(await exited(child), 2);
    assert.match(output(), /TENANTML_PORT must be a whole number/);
    assert.doesNotMatch(output(), /at .*\.ts:\d+/, 'no stack trace');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
