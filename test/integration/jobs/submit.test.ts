// Submission validation on the real store: every refusal names its field (or answers 404 / 422 / quota),
// and nothing is queued; an accepted request becomes a queued job with the tenant's limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { mintTenantScope } from '../../../src/core/scope.ts';
import { TIER_QUOTAS } from '../../../src/core/tiers.ts';
import { seedOf, type TrainRequest } from '../../../src/services/training.ts';
import { createHarness, csv, type Harness } from './harness.ts';

const ok: TrainRequest = { dataset: 'tiny', target: 'label' };

describe('training submission (sqlite)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness('sqlite', { tier: 'free' });
  });
  after(async () => {
    await h?.cleanup();
  });

  const refusals: [
    string,
    string,
    Partial<TrainRequest> | Record<string, unknown>,
    string,
    string,
    RegExp?,
  ][] = [
    ['bad model name', '../x', {}, 'validation_failed', 'model'],
    ['no target', 'churn', { target: undefined }, 'validation_failed', 'target'],
    ['unknown task', 'churn', { task: 'ranking' }, 'validation_failed', 'task'],
    ['unknown algorithm', 'churn', { algorithm: 'svm' }, 'validation_failed', 'algorithm'],
    ['version not an integer', 'churn', { version: 1.5 }, 'validation_failed', 'version'],
    ['validFraction out of range', 'churn', { validFraction: 0.9 }, 'validation_failed', 'validFraction'],
    [
      'unknown param',
      'churn',
      { algorithm: 'gbdt', params: { depth: 3 } },
      'validation_failed',
      'params.depth',
    ],
    [
      'param out of range',
      'churn',
      { algorithm: 'gbdt', params: { nRounds: 0 } },
      'validation_failed',
      'params.nRounds',
    ],
    [
      'param of the wrong type',
      'churn',
      { algorithm: 'linear', params: { C: '1' } },
      'validation_failed',
      'params.C',
    ],
    [
      'model param with auto',
      'churn',
      { params: { learningRate: 0.3 } },
      'validation_failed',
      'params.learningRate',
    ],
    ['target not a column', 'churn', { target: 'nope' }, 'validation_failed', 'target', /not in version 1/],
    ['identifying target', 'churn', { target: 'email' }, 'validation_failed', 'target', /identifying/],
    [
      'regression on a categorical target',
      'churn',
      { task: 'regression' },
      'validation_failed',
      'target',
      /must be numeric/,
    ],
    [
      'binary on a three-class target',
      'churn',
      { target: 'colour', task: 'binary' },
      'validation_failed',
      'target',
      /needs 2 classes/,
    ],
    [
      'classification on a fractional target',
      'churn',
      { target: 'score', task: 'multiclass' },
      'validation_failed',
      'target',
      /boolean, categorical or integer/,
    ],
    ['tuned mode without a base', 'churn', { mode: 'tuned' }, 'validation_failed', 'base'],
    ['a base outside tuned mode', 'churn', { base: 'shared@1' }, 'validation_failed', 'base'],
    ['a tuned base that does not exist', 'churn', { mode: 'tuned', base: 'shared@1' }, 'not_found', ''],
    ['missing dataset', 'churn', { dataset: 'absent' }, 'not_found', ''],
    ['missing version', 'churn', { version: 9 }, 'not_found', ''],
  ];

  for (const [what, model, change, code, field, message] of refusals) {
    test(`refuses: ${what}`, async () => {
      const err = await h.training.submit(h.scope, model, { ...ok, ...change } as TrainRequest).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof AppError, `expected a refusal, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (field)
        assert.ok(
          err.errors?.some((e) => e.field === field),
          JSON.stringify(err.errors),
        );
      if (message) assert.match(err.message, message);
    });
  }

  test('several problems are reported together', async () => {
    const err = (await h.training
      .submit(h.scope, 'churn', {
        dataset: 'tiny',
        target: 'label',
        algorithm: 'gbdt',
        params: { nRounds: -1, maxBins: 999, x: 1 },
      })
      .catch((e) => e)) as AppError;
    assert.deepEqual(err.errors?.map((e) => e.field).sort(), [
      'params.maxBins',
      'params.nRounds',
      'params.x',
    ]);
  });

  test('a version over the trainingRows quota is refused with the quota, its limit and the use', async () => {
    await h.tp.call({
      method: 'PATCH',
      url: '/v1/tenants/acme',
      key: h.tp.adminKey,
      json: { quotaOverrides: { trainingRows: 100 } },
    });
    try {
      const err = (await h.training.submit(h.scope, 'churn', ok).catch((e) => e)) as AppError;
      assert.equal(err.code, 'quota_exceeded');
      assert.deepEqual(err.extra, { quota: 'trainingRows', limit: 100, used: 300 });
    } finally {
      await h.tp.call({
        method: 'PATCH',
        url: '/v1/tenants/acme',
        key: h.tp.adminKey,
        json: { quotaOverrides: {} },
      });
    }
  });

  test('nothing was queued by any refusal', async () => {
    assert.deepEqual(await h.training.list(h.scope), []);
  });

  test('an accepted request is queued with the tier’s limits, 3 attempts and a seed from its id', async () => {
    const job = await h.training.submit(h.scope, 'churn', {
      ...ok,
      algorithm: 'gbdt',
      params: { nRounds: 20 },
    });
    const free = TIER_QUOTAS.free;
    assert.equal(job.state, 'queued');
    assert.equal(job.maxAttempts, 3);
    assert.deepEqual(job.limits, {
      timeoutSeconds: free.jobTimeoutSeconds,
      cpuSeconds: free.cpuSecondsPerJob,
      heapMb: free.jobHeapMb,
    });
    assert.equal(job.spec.seed, seedOf(job.id));
    assert.equal(job.spec.datasetVersion, 1);
    assert.equal(job.spec.algorithm, 'gbdt');
    assert.deepEqual((await h.training.get(h.scope, job.id)).id, job.id);
    const seeded = await h.training.submit(h.scope, 'churn', { ...ok, seed: 42, target: 'score' });
    assert.equal(seeded.spec.seed, 42);
    assert.equal((await h.training.list(h.scope)).length, 2);
    // Cancel a queued job: it ends at once. Another tenant's job answers 404 like a missing one.
    assert.equal((await h.training.cancel(h.scope, seeded.id)).state, 'cancelled');
    const other = mintTenantScope('other', { keyId: 'k', role: 'admin' });
    await assert.rejects(h.training.get(other, job.id), (e: AppError) => e.code === 'not_found');
  });

  test('a second version of the dataset is trained when named; the latest by default', async () => {
    const key = await h.tp.call({
      method: 'POST',
      url: '/v1/tenants/acme/keys',
      key: h.tp.adminKey,
      json: { role: 'admin' },
    });
    const up = await h.tp.upload(key.body.key, 'tiny', csv(50));
    assert.equal(up.status, 201);
    const latest = await h.training.submit(h.scope, 'm2', ok);
    assert.equal(latest.spec.datasetVersion, 2);
    const first = await h.training.submit(h.scope, 'm2', { ...ok, version: 1 });
    assert.equal(first.spec.datasetVersion, 1);
  });
});
