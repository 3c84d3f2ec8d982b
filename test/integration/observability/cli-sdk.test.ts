// `tenantml metrics` and client.metrics() against a real server on a port: the operator gets the text
// (filtered by name, or as JSON samples); a tenant key and no key are refused with the server's codes; a
// parser that keeps label values intact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseExposition } from '../../../src/cli/commands/metrics.ts';
import { TenantmlClient } from '../../../src/sdk/client.ts';
import { isTenantmlError } from '../../../src/sdk/errors.ts';
import { cliInProcess } from '../../e2e/cli-helpers.ts';
import { startTestServer, type TestServer, tenantKey } from '../../helpers/server.ts';

describe('metrics through the SDK and the CLI', () => {
  let server: TestServer;
  let tenant: string;
  const env = (key: string) => ({ TENANTML_URL: server.url, TENANTML_API_KEY: key });

  before(async () => {
    server = await startTestServer('tenantml-obs-cli-', { TENANTML_WORKER_SLOTS: '0' });
    tenant = await tenantKey(server, 'obs-cli');
  });
  after(() => server.close());

  test('client.metrics(): the exposition text for the operator; a tenant key is refused', async () => {
    const admin = new TenantmlClient({ baseUrl: server.url, apiKey: server.platform.adminKey });
    const text = await admin.metrics();
    assert.match(text, /^# HELP /);
    assert.match(text, /tenantml_http_requests_total\{method="POST",route="\/v1\/tenants",status="201"\} 1/);

    const asTenant = new TenantmlClient({ baseUrl: server.url, apiKey: tenant });
    await assert.rejects(
      asTenant.metrics(),
      (e) => isTenantmlError(e) && e.status === 403 && e.code === 'forbidden',
    );
    const anonymous = new TenantmlClient({ baseUrl: server.url });
    await assert.rejects(anonymous.metrics(), (e) => isTenantmlError(e) && e.status === 401);
  });

  test('tenantml metrics --name: only those metrics, HELP and TYPE included; --json: samples', async () => {
    const r = await cliInProcess(['metrics', '--name', 'http_requests_total'], env(server.platform.adminKey));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('# TYPE tenantml_http_requests_total counter'), r.stdout);
    assert.ok(
      lines.every((l) => l.includes('tenantml_http_requests_total')),
      r.stdout,
    );

    const j = await cliInProcess(
      ['metrics', '--name', 'usage_total', '--json'],
      env(server.platform.adminKey),
    );
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), [], 'no usage yet: no samples');
    const h = await cliInProcess(
      ['--json', 'metrics', '--name', 'http_requests'],
      env(server.platform.adminKey),
    );
    const samples = JSON.parse(h.stdout) as { name: string; labels: Record<string, string>; value: number }[];
    const created = samples.find((s) => s.labels.route === '/v1/tenants' && s.labels.status === '201');
    assert.deepEqual(created, {
      name: 'tenantml_http_requests_total',
      labels: { method: 'POST', route: '/v1/tenants', status: '201' },
      value: 1,
    });

    const none = await cliInProcess(
      ['metrics', '--name', 'no_such_metric_anywhere'],
      env(server.platform.adminKey),
    );
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
  });

  test('tenantml metrics with a tenant key: error forbidden, exit 1', async () => {
    const r = await cliInProcess(['metrics'], env(tenant));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error forbidden/);
    assert.equal(r.stdout, '');
  });

  test('tenantml metrics --name without its value is a usage error', async () => {
    const r = await cliInProcess(['metrics', '--name'], env(server.platform.adminKey));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--name/);
  });
});

describe('parseExposition', () => {
  test('labels with escaped quotes, commas and braces; comments and junk skipped', () => {
    const text = [
      '# HELP x_total a counter',
      '# TYPE x_total counter',
      'x_total{a="1,2",b="say \\"hi\\"",c="{}"} 3',
      'y 4.5',
      'z_bucket{le="+Inf"} +Inf 1700000000000',
      'not a sample line ###',
      'w notanumber',
      '',
    ].join('\n');
    assert.deepEqual(parseExposition(text), [
      { name: 'x_total', labels: { a: '1,2', b: 'say "hi"', c: '{}' }, value: 3 },
      { name: 'y', labels: {}, value: 4.5 },
      { name: 'z_bucket', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
    ]);
  });
});
