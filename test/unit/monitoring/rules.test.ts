// The loop's pure rules: the cron matcher, policy validation, when a trigger fires (cooldown first), the
// performance-drop margin, the champion/challenger decision, and what is read off log keys and ids.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextCronTime, parseCron } from '../../../src/services/monitoring/cron.ts';
import { batchDay, batchStamp, predictionTime } from '../../../src/services/monitoring/log-keys.ts';
import {
  checkPolicy,
  decideChallenger,
  firingTrigger,
  isPerformanceDrop,
} from '../../../src/services/monitoring/policy.ts';
import { shardOf } from '../../../src/services/monitoring/service.ts';

const next = (expr: string, after: string, until = '2030-01-01T00:00:00Z'): string | null => {
  const s = parseCron(expr);
  if (typeof s === 'string') throw new Error(s);
  return nextCronTime(s, new Date(after), new Date(until))?.toISOString() ?? null;
};

describe('cron', () => {
  test('next occurrence: minutes, hours, steps, ranges, lists, months and weekdays (UTC)', () => {
    assert.equal(next('* * * * *', '2026-11-28T10:15:30Z'), '2026-11-28T10:16:00.000Z');
    assert.equal(next('30 12 * * *', '2026-11-28T12:30:00Z'), '2026-11-29T12:30:00.000Z');
    assert.equal(next('*/15 * * * *', '2026-11-28T10:16:00Z'), '2026-11-28T10:30:00.000Z');
    assert.equal(next('0 9-17/4 * * *', '2026-11-28T10:00:00Z'), '2026-11-28T13:00:00.000Z');
    assert.equal(next('0 0 1 1,7 *', '2026-11-28T00:00:00Z'), '2027-01-01T00:00:00.000Z');
    // 2026-11-28 is a Saturday; 1 = Monday, and 7 is Sunday like 0.
    assert.equal(next('0 3 * * 1', '2026-11-28T00:00:00Z'), '2026-11-30T03:00:00.000Z');
    assert.equal(next('0 3 * * 7', '2026-11-28T00:00:00Z'), '2026-11-29T03:00:00.000Z');
    // Both day fields restricted: either matches (crontab(5)).
    assert.equal(next('0 0 30 * 0', '2026-11-28T00:00:00Z'), '2026-11-29T00:00:00.000Z');
    // February 30th never comes: null within the bound, quickly.
    assert.equal(next('0 0 30 2 *', '2026-01-01T00:00:00Z', '2036-01-01T00:00:00Z'), null);
    assert.equal(next('0 12 * * *', '2026-11-28T10:00:00Z', '2026-11-28T11:59:00Z'), null);
  });

  test('bad expressions say what is wrong', () => {
    assert.match(parseCron('* * * *') as string, /5 fields/);
    assert.match(parseCron('60 * * * *') as string, /minute.*outside 0-59/);
    assert.match(parseCron('* 24 * * *') as string, /hour/);
    assert.match(parseCron('* * 0 * *') as string, /day of month/);
    assert.match(parseCron('* * * 13 *') as string, /month/);
    assert.match(parseCron('* * * * mon') as string, /day of week/);
    assert.match(parseCron('*/0 * * * *') as string, /step/);
    assert.match(parseCron('5-1 * * * *') as string, /outside/);
  });
});

describe('policy validation', () => {
  test('a full policy passes unchanged; unknown and bad fields are each named', () => {
    const p = {
      onDrift: true,
      onPerformanceDrop: 0.05,
      onNewRows: 500,
      schedule: ' 0 3 * * 1 ',
      promoteMargin: 0,
      cooldownHours: 0,
    };
    const ok = checkPolicy(p);
    assert.ok('policy' in ok);
    assert.deepEqual(ok.policy, { ...p, schedule: '0 3 * * 1' });
    assert.deepEqual(checkPolicy({}), { policy: {}, errors: [] });
    const bad = checkPolicy({
      onDrift: 1,
      onPerformanceDrop: 0,
      onNewRows: 0,
      schedule: 5,
      promoteMargin: 2,
      cooldownHours: Number.NaN,
      x: 1,
    });
    assert.deepEqual(
      bad.errors.map((e) => e.field),
      ['x', 'onDrift', 'onPerformanceDrop', 'onNewRows', 'promoteMargin', 'cooldownHours', 'schedule'],
    );
    assert.deepEqual(checkPolicy(null).errors, [{ field: 'body', message: 'must be an object' }]);
  });
});

describe('triggers', () => {
  const base = {
    lastFiredAt: null,
    updatedAt: '2026-11-28T00:00:00.000Z',
    now: new Date('2026-11-28T10:00:00Z'),
    drift: false,
    performanceDrop: false,
    newRows: null,
  };
  test('each trigger fires on its own condition, in order drift, performance, new rows, schedule', () => {
    assert.equal(firingTrigger({ ...base, policy: {}, drift: true }), null);
    assert.equal(firingTrigger({ ...base, policy: { onDrift: true }, drift: true }), 'drift');
    assert.equal(firingTrigger({ ...base, policy: { onDrift: true } }), null);
    assert.equal(
      firingTrigger({ ...base, policy: { onPerformanceDrop: 0.1 }, performanceDrop: true }),
      'performance',
    );
    assert.equal(firingTrigger({ ...base, policy: { onNewRows: 100 }, newRows: 99 }), null);
    assert.equal(firingTrigger({ ...base, policy: { onNewRows: 100 }, newRows: 100 }), 'new-rows');
    assert.equal(firingTrigger({ ...base, policy: { schedule: '0 9 * * *' } }), 'schedule');
    assert.equal(firingTrigger({ ...base, policy: { schedule: '0 11 * * *' } }), null);
    assert.equal(
      firingTrigger({
        ...base,
        policy: { onDrift: true, onNewRows: 1, schedule: '* * * * *' },
        drift: true,
        newRows: 5,
      }),
      'drift',
    );
  });
  test('the cooldown holds every trigger; a schedule counts from the last firing', () => {
    const fired = { ...base, lastFiredAt: '2026-11-28T05:00:00.000Z' };
    assert.equal(firingTrigger({ ...fired, policy: { onDrift: true }, drift: true }), null); // 5 h < 6 h default
    assert.equal(
      firingTrigger({ ...fired, policy: { onDrift: true, cooldownHours: 4 }, drift: true }),
      'drift',
    );
    // 09:00 came after the 05:00 firing: due; with a firing at 09:30 it is not.
    assert.equal(
      firingTrigger({ ...fired, policy: { schedule: '0 9 * * *', cooldownHours: 1 } }),
      'schedule',
    );
    assert.equal(
      firingTrigger({
        ...base,
        lastFiredAt: '2026-11-28T09:30:00.000Z',
        policy: { schedule: '0 9 * * *', cooldownHours: 0 },
      }),
      null,
    );
  });
  test('performance drop: accuracy in points, RMSE relative', () => {
    assert.equal(isPerformanceDrop('accuracy', 0.84, 0.9, 0.05), true);
    assert.equal(isPerformanceDrop('accuracy', 0.86, 0.9, 0.05), false);
    assert.equal(isPerformanceDrop('rmse', 10.6, 10, 0.05), true);
    assert.equal(isPerformanceDrop('rmse', 10.4, 10, 0.05), false);
    assert.equal(isPerformanceDrop('rmse', Number.NaN, 10, 0.05), false);
  });
});

describe('champion/challenger', () => {
  const decide = (
    task: string,
    ch: Record<string, number>,
    cp: Record<string, number> | undefined,
    live = true,
  ) =>
    decideChallenger({
      task,
      challengerMetrics: ch,
      championMetrics: cp,
      margin: 0.01,
      championStillLive: live,
    });
  test('promoted only when better by the margin on the task’s metric', () => {
    assert.equal(decide('binary', { accuracy: 0.911 }, { accuracy: 0.9 }).promote, true);
    assert.equal(decide('binary', { accuracy: 0.909 }, { accuracy: 0.9 }).promote, false);
    assert.equal(decide('regression', { rmse: 9.8 }, { rmse: 10 }).promote, true);
    assert.equal(decide('regression', { rmse: 9.95 }, { rmse: 10 }).promote, false);
    assert.equal(decide('multiclass', { accuracy: 0.99 }, { accuracy: 0.5 }, false).promote, false);
  });
  test('missing measurements are never a promotion, and say why', () => {
    const d = decide('binary', { accuracy: 0.99 }, undefined);
    assert.equal(d.promote, false);
    assert.match(d.reasons.join(), /champion was not measured/);
    assert.match(decide('binary', {}, { accuracy: 0.5 }).reasons.join(), /challenger has no accuracy/);
  });
});

describe('log keys and prediction ids', () => {
  test('batch day and flush time from the key; prediction time from the id', () => {
    const key = 'predictions/churn/2026-11-28/20261128T201603123Z-0a1b2c3d.ndjson';
    assert.equal(batchDay(key), '2026-11-28');
    assert.equal(batchStamp(key), Date.parse('2026-11-28T20:16:03.123Z'));
    assert.ok(Number.isNaN(batchStamp('predictions/churn/2026-11-28/other.ndjson')));
    const t = Date.parse('2026-11-28T20:16:03.123Z');
    assert.equal(predictionTime(`req_${t.toString(36)}-abcdefgh0001.3`), t);
    assert.equal(predictionTime('req_abcdefgh0001.3'), null); // ids issued before they carried a time
  });
});

describe('shards', () => {
  test('every model falls in exactly one shard, and the shards are roughly even', () => {
    const counts = [0, 0, 0];
    for (let t = 0; t < 30; t++) for (let m = 0; m < 100; m++) counts[shardOf(`t-${t}`, `model-${m}`, 3)]++;
    assert.equal(counts[0] + counts[1] + counts[2], 3000);
    for (const c of counts) assert.ok(c > 900 && c < 1100, String(counts));
    assert.equal(shardOf('a', 'b', 1), 0);
  });
});
