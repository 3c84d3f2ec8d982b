// A platform without tracing, Redis or PostgreSQL configured loads none of their client libraries: each
// costs the serving process 15–25 MB of resident memory (docs/inference.md, "Memory"). The check runs in
// a fresh process (this test runner has loaded much more), which then turns tracing on to show that the
// check would see a loaded SDK.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const OPTIONAL = [
  '/@opentelemetry/sdk-trace-base/',
  '/@opentelemetry/exporter-trace-otlp-http/',
  '/ioredis/',
  '/pg/',
];

const CHILD = `
import { createRequire } from 'node:module';
import { loadConfig } from './src/core/config.ts';
import { createPlatform } from './src/platform.ts';
import { startTracing } from './src/observability/tracing.ts';
const loaded = () => Object.keys(createRequire(import.meta.url).cache);
const dir = process.env.DIR;
const platform = await createPlatform(
  loadConfig({ TENANTML_DATA_DIR: dir, TENANTML_LOG_LEVEL: 'silent', TENANTML_WORKER_SLOTS: '0' }, dir),
);
const before = loaded();
await platform.close();
const tracing = startTracing({ endpoint: 'http://127.0.0.1:9/v1/traces', role: 'api', version: 'test' });
const after = loaded();
await tracing.shutdown();
console.log(JSON.stringify({ before, after }));
process.exit(0);
`;

test('a platform with SQLite, memory limits and no tracing loads no optional client library', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenantml-optional-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      env: { ...process.env, DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const { before, after } = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as {
      before: string[];
      after: string[];
    };
    assert.ok(before.length > 50, `the platform's CommonJS modules are listed (${before.length})`);
    for (const lib of OPTIONAL)
      assert.deepEqual(
        before.filter((f) => f.includes(`/node_modules${lib}`)),
        [],
        `${lib} is not loaded`,
      );
    assert.ok(
      after.some((f) => f.includes('/node_modules/@opentelemetry/sdk-trace-base/')),
      'tracing turned on loads the SDK (the check sees loaded modules)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
