import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/core/config.ts';
import { DEFAULT_PRICES } from '../../../src/core/metering.ts';

describe('configuration', () => {
  test('defaults: embedded SQLite in ./data on port 8080', () => {
    const c = loadConfig({}, '/srv/app');
    assert.equal(c.dataDir, '/srv/app/data');
    assert.equal(c.databaseUrl, '/srv/app/data/tenantml.db');
    assert.equal(c.profile, 'embedded');
    assert.equal(c.port, 8080);
    assert.equal(c.adminKey, undefined);
    assert.ok(Object.isFrozen(c));
  });

  test('PostgreSQL selects the distributed profile', () => {
    const c = loadConfig({ TENANTML_DATABASE_URL: 'postgres://app@db/tenantml' }, '/x');
    assert.equal(c.profile, 'distributed');
  });

  test('a master key in hex or base64', () => {
    const hex = loadConfig({ TENANTML_MASTER_KEY: 'ab'.repeat(32) }, '/x');
    assert.equal(hex.masterKey?.length, 32);
    const b64 = loadConfig({ TENANTML_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, '/x');
    assert.deepEqual(b64.masterKey, Buffer.alloc(32, 7));
  });

  test('every bad value is reported at once, each naming its variable', () => {
    try {
      loadConfig(
        {
          TENANTML_PORT: 'eighty',
          TENANTML_ADMIN_KEY: 'short',
          TENANTML_MASTER_KEY: 'nope',
          TENANTML_LOG_LEVEL: 'loud',
          TENANTML_DATABASE_URL: 'mysql://db/x',
          TENANTML_MAX_UPLOAD_BYTES: '-5',
          TENANTML_PROT: '8080',
        },
        '/x',
      );
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const names = [
        'TENANTML_PORT',
        'TENANTML_ADMIN_KEY',
        'TENANTML_MASTER_KEY',
        'TENANTML_LOG_LEVEL',
        'TENANTML_DATABASE_URL',
        'TENANTML_MAX_UPLOAD_BYTES',
        'TENANTML_PROT',
      ];
      assert.equal(err.problems.length, names.length);
      for (const n of names)
        assert.ok(
          err.problems.some((p) => p.startsWith(n)),
          n,
        );
    }
  });

  test("the client commands' own variables are not the server's business", () => {
    const c = loadConfig({ TENANTML_URL: 'http://x', TENANTML_API_KEY: 'k', TENANTML_TENANT: 't' }, '/x');
    assert.equal(c.port, 8080);
  });

  test('metering, prices, shared cost, tracing and the Redis timeout: defaults and accepted values', () => {
    const d = loadConfig({}, '/x');
    assert.equal(d.metering, true);
    assert.equal(d.meteringFlushMs, 5000);
    assert.deepEqual(d.prices, { ...DEFAULT_PRICES });
    assert.equal(d.sharedCost, 'contributors');
    assert.equal(d.otlpTracesEndpoint, null);
    assert.equal(d.redisTimeoutMs, 100);
    assert.equal(d.rateLimitHoldMs, 100);
    assert.equal(
      loadConfig({ TENANTML_RATE_LIMIT_HOLD_MS: '0' }, '/x').rateLimitHoldMs,
      0,
      '0: refusals at once',
    );
    assert.throws(
      () => loadConfig({ TENANTML_RATE_LIMIT_HOLD_MS: '-1' }, '/x'),
      /TENANTML_RATE_LIMIT_HOLD_MS/,
    );
    assert.equal(d.heapGrowingPercent, 30);
    assert.equal(loadConfig({ TENANTML_HEAP_GROWING_PERCENT: '0' }, '/x').heapGrowingPercent, 0);
    assert.throws(
      () => loadConfig({ TENANTML_HEAP_GROWING_PERCENT: '-5' }, '/x'),
      /TENANTML_HEAP_GROWING_PERCENT/,
    );
    assert.equal(d.rateLimitBurstSeconds, 1);
    assert.equal(loadConfig({ TENANTML_RATE_LIMIT_BURST_SECONDS: '10' }, '/x').rateLimitBurstSeconds, 10);
    for (const bad of ['0', '1.5', 'x']) {
      assert.throws(
        () => loadConfig({ TENANTML_RATE_LIMIT_BURST_SECONDS: bad }, '/x'),
        /TENANTML_RATE_LIMIT_BURST_SECONDS/,
      );
    }
    const c = loadConfig(
      {
        TENANTML_METERING: 'off',
        TENANTML_METERING_FLUSH_MS: '250',
        TENANTML_PRICES: '{"currency":"EUR","cpuSecond":0.0001,"gbMonth":0}',
        TENANTML_SHARED_COST: 'operator',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        TENANTML_REDIS_TIMEOUT_MS: '2000',
      },
      '/x',
    );
    assert.equal(c.metering, false);
    assert.equal(c.meteringFlushMs, 250);
    assert.deepEqual(c.prices, { ...DEFAULT_PRICES, currency: 'EUR', cpuSecond: 0.0001, gbMonth: 0 });
    assert.equal(c.sharedCost, 'operator');
    assert.equal(
      c.otlpTracesEndpoint,
      'http://collector:4318/v1/traces',
      'the standard base gets /v1/traces',
    );
    assert.equal(c.redisTimeoutMs, 2000);
    const own = loadConfig(
      {
        TENANTML_OTLP_TRACES_ENDPOINT: 'https://otel.example/v1/traces',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      },
      '/x',
    );
    assert.equal(own.otlpTracesEndpoint, 'https://otel.example/v1/traces', 'our own variable wins');
  });

  test('bad metering, price, shared-cost, tracing and Redis-timeout values each name their variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TENANTML_METERING: 'maybe' }, /TENANTML_METERING must be on or off/],
      [{ TENANTML_METERING_FLUSH_MS: '0' }, /TENANTML_METERING_FLUSH_MS/],
      [{ TENANTML_PRICES: 'cheap' }, /TENANTML_PRICES must be a JSON object/],
      [{ TENANTML_PRICES: '[1,2]' }, /TENANTML_PRICES must be a JSON object/],
      [{ TENANTML_PRICES: '{"cpuSecond":-1}' }, /TENANTML_PRICES\.cpuSecond must be a number ≥ 0/],
      [{ TENANTML_PRICES: '{"gbMonth":"1"}' }, /TENANTML_PRICES\.gbMonth must be a number ≥ 0/],
      [{ TENANTML_PRICES: '{"currency":"euro"}' }, /TENANTML_PRICES\.currency must be a 3-letter code/],
      [{ TENANTML_PRICES: '{"gpuSecond":1}' }, /TENANTML_PRICES\.gpuSecond is not a price/],
      [{ TENANTML_SHARED_COST: 'nobody' }, /TENANTML_SHARED_COST must be contributors or operator/],
      [{ TENANTML_OTLP_TRACES_ENDPOINT: 'collector:4318' }, /OTLP traces endpoint must be an http\(s\) URL/],
      [
        { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x/v1/traces' },
        /OTLP traces endpoint must be an http\(s\) URL/,
      ],
      [{ TENANTML_REDIS_TIMEOUT_MS: '-1' }, /TENANTML_REDIS_TIMEOUT_MS/],
    ];
    for (const [env, message] of cases)
      assert.throws(() => loadConfig(env, '/x'), message, JSON.stringify(env));
  });

  test('a port out of range', () => {
    assert.throws(() => loadConfig({ TENANTML_PORT: '70000' }, '/x'), /TENANTML_PORT must be between/);
  });

  test('serve processes: 1 by default (no pool), a whole number from 1 to 64', () => {
    assert.equal(loadConfig({}, '/x').serveProcesses, 1);
    assert.equal(loadConfig({ TENANTML_SERVE_PROCESSES: '4' }, '/x').serveProcesses, 4);
    for (const bad of ['0', '65', '2.5', 'many'])
      assert.throws(
        () => loadConfig({ TENANTML_SERVE_PROCESSES: bad }, '/x'),
        /TENANTML_SERVE_PROCESSES must be/,
        bad,
      );
  });
});
