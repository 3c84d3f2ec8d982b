// The monitoring settings: defaults, accepted values, and errors naming the variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/core/config.ts';

test('monitoring settings: defaults, values, and errors naming the variable', () => {
  const d = loadConfig({}, '/tmp');
  assert.deepEqual(
    [
      d.monitorGranularity,
      d.monitorIntervalSeconds,
      d.monitorMinRows,
      d.monitorDriftShare,
      d.feedbackHorizonHours,
    ],
    ['hour', 60, 50, 0.5, 168],
  );
  const c = loadConfig(
    {
      TENANTML_MONITOR_GRANULARITY: 'day',
      TENANTML_MONITOR_INTERVAL_SECONDS: '300',
      TENANTML_MONITOR_MIN_ROWS: '200',
      TENANTML_MONITOR_DRIFT_SHARE: '0.3',
      TENANTML_FEEDBACK_HORIZON_HOURS: '24',
    },
    '/tmp',
  );
  assert.deepEqual(
    [
      c.monitorGranularity,
      c.monitorIntervalSeconds,
      c.monitorMinRows,
      c.monitorDriftShare,
      c.feedbackHorizonHours,
    ],
    ['day', 300, 200, 0.3, 24],
  );
  assert.throws(
    () =>
      loadConfig(
        {
          TENANTML_MONITOR_GRANULARITY: 'week',
          TENANTML_MONITOR_INTERVAL_SECONDS: '0',
          TENANTML_MONITOR_MIN_ROWS: 'x',
          TENANTML_MONITOR_DRIFT_SHARE: '1.5',
          TENANTML_FEEDBACK_HORIZON_HOURS: '-1',
        },
        '/tmp',
      ),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const names = err.problems.map((p) => p.split(' ')[0]);
      assert.deepEqual(names, [
        'TENANTML_MONITOR_GRANULARITY',
        'TENANTML_MONITOR_INTERVAL_SECONDS',
        'TENANTML_MONITOR_MIN_ROWS',
        'TENANTML_MONITOR_DRIFT_SHARE',
        'TENANTML_FEEDBACK_HORIZON_HOURS',
      ]);
      return true;
    },
  );
});

test('monitor shard and webhooks-allow-private: defaults, values, and errors naming the variable', () => {
  const d = loadConfig({}, '/x');
  assert.deepEqual(d.monitorShard, { index: 0, count: 1 });
  assert.equal(d.webhooksAllowPrivate, false);
  const c = loadConfig({ TENANTML_MONITOR_SHARD: '1/3', TENANTML_WEBHOOKS_ALLOW_PRIVATE: 'true' }, '/x');
  assert.deepEqual(c.monitorShard, { index: 1, count: 3 });
  assert.equal(c.webhooksAllowPrivate, true);
  for (const bad of ['3/3', '1/0', 'half', '-1/2']) {
    assert.throws(
      () => loadConfig({ TENANTML_MONITOR_SHARD: bad }, '/x'),
      (e: unknown) => e instanceof ConfigError && /TENANTML_MONITOR_SHARD/.test(e.message),
      bad,
    );
  }
  assert.throws(
    () => loadConfig({ TENANTML_WEBHOOKS_ALLOW_PRIVATE: 'yes' }, '/x'),
    (e: unknown) => e instanceof ConfigError && /TENANTML_WEBHOOKS_ALLOW_PRIVATE/.test(e.message),
  );
});
