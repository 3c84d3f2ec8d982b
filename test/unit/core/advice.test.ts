import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Approach,
  type Candidate,
  DEFAULT_PREFERENCE,
  defaultPreference,
  FEW_ROWS_TREES_PREFERENCE,
  NOISE_Z,
  recommend,
} from '../../../src/core/advice.ts';
import { AppError } from '../../../src/core/errors.ts';

const cls = (mode: Approach, accuracy: number, logLoss = 0.5): Candidate => ({
  mode,
  ref: null,
  metrics: { accuracy, logLoss },
});
const reg = (mode: Approach, rmse: number): Candidate => ({ mode, ref: null, metrics: { rmse, mae: rmse } });

describe('recommend', () => {
  test('the policy constants are the documented ones', () => {
    assert.equal(NOISE_Z, 2);
    assert.deepEqual(DEFAULT_PREFERENCE, ['tuned', 'tenant', 'shared']);
  });

  test('a lead larger than the noise wins, with the figures in the reasons', () => {
    // 5000 rows: se of the difference between 0.90 and 0.80 is ~0.0071, the lead 0.10 ≫ 2 se.
    const r = recommend({
      task: 'binary',
      validRows: 5000,
      candidates: [cls('tenant', 0.9), cls('shared', 0.8), cls('tuned', 0.8)],
    });
    assert.equal(r.recommendation, 'tenant');
    assert.deepEqual(r.metric, { name: 'accuracy', higherIsBetter: true });
    assert.deepEqual(
      r.candidates.map((c) => [c.mode, c.score]),
      [
        ['tenant', 0.9],
        ['shared', 0.8],
        ['tuned', 0.8],
      ],
    );
    const text = r.reasons.join(' ');
    assert.match(text, /tenant: accuracy 90\.0% on 5000 held-out rows/);
    assert.match(
      text,
      /lead over (tuned|shared) is 10\.0 points \(standard error of the difference 0\.\d points with 5000 rows\), larger than the noise/,
    );
    assert.match(text, /Recommended: tenant\./);
  });

  test('with few rows a small lead is not evidence: the preference order decides', () => {
    // 30 rows: se of the difference ≈ 11 points; tenant's 6.7-point lead is noise.
    const r = recommend({
      task: 'binary',
      validRows: 30,
      candidates: [cls('tenant', 0.8), cls('shared', 0.7), cls('tuned', 0.7333)],
    });
    assert.equal(r.recommendation, 'tuned');
    assert.match(
      r.reasons.join(' '),
      /tenant leads tuned by 6\.7 points, within 2 standard errors of the difference \(1\d\.\d points with 30 rows\): not evidence/,
    );
    // The same gap measured on many rows is evidence.
    const many = recommend({
      task: 'binary',
      validRows: 20_000,
      candidates: [cls('tenant', 0.8), cls('shared', 0.7), cls('tuned', 0.7333)],
    });
    assert.equal(many.recommendation, 'tenant');
  });

  test('the boundary is NOISE_Z standard errors of the difference', () => {
    const n = 1000;
    const p = 0.7;
    const se = Math.sqrt((2 * p * (1 - p)) / n);
    const just = (lead: number) =>
      recommend({ task: 'binary', validRows: n, candidates: [cls('tuned', p), cls('tenant', p + lead)] })
        .recommendation;
    // se is computed at each candidate's own accuracy, so stay clear of the exact edge.
    assert.equal(just(1.8 * se), 'tuned');
    assert.equal(just(2.3 * se), 'tenant');
  });

  test('equal accuracy: lower log-loss leads, and the preference still applies within the noise', () => {
    const r = recommend({
      task: 'multiclass',
      validRows: 100_000,
      candidates: [cls('shared', 0.8, 0.4), cls('tenant', 0.8, 0.45)],
    });
    assert.equal(r.recommendation, 'tenant', 'tenant is preferred to shared and the gap is 0');
    const noPreference = recommend({
      task: 'multiclass',
      validRows: 100_000,
      candidates: [cls('shared', 0.8, 0.4), cls('tenant', 0.8, 0.45)],
      prefer: [],
    });
    assert.equal(noPreference.recommendation, 'shared', 'the log-loss tie-break');
    assert.match(noPreference.reasons.join(' '), /equal accuracy, lower log-loss/);
  });

  test('regression: lower RMSE is better, with its own noise', () => {
    const clear = recommend({
      task: 'regression',
      validRows: 10_000,
      candidates: [reg('tuned', 2.0), reg('shared', 1.5)],
    });
    assert.equal(clear.recommendation, 'shared');
    assert.deepEqual(clear.metric, { name: 'rmse', higherIsBetter: false });
    // rmse/√(2n): with 20 rows 1.5 vs 2.0 is within 2 se of the difference (~0.8).
    const noisy = recommend({
      task: 'regression',
      validRows: 20,
      candidates: [reg('tuned', 2.0), reg('shared', 1.5)],
    });
    assert.equal(noisy.recommendation, 'tuned');
  });

  test('tuned trees against a linear tenant-specific model: tenant-specific is preferred within the noise', () => {
    const withAlgorithm = (c: Candidate, algorithm: string): Candidate => ({ ...c, algorithm });
    const candidates = (tuned: string, tenant: string) => [
      withAlgorithm(cls('tenant', 0.7), tenant),
      withAlgorithm(cls('shared', 0.68), tuned),
      withAlgorithm(cls('tuned', 0.75), tuned),
    ];
    assert.deepEqual(FEW_ROWS_TREES_PREFERENCE, ['tenant', 'tuned', 'shared']);
    assert.equal(defaultPreference(candidates('gbdt', 'linear')), FEW_ROWS_TREES_PREFERENCE);
    assert.equal(defaultPreference(candidates('gbdt', 'gbdt')), DEFAULT_PREFERENCE);
    assert.equal(defaultPreference(candidates('linear', 'gbdt')), DEFAULT_PREFERENCE);
    assert.equal(defaultPreference([cls('tenant', 0.7), cls('tuned', 0.75)]), DEFAULT_PREFERENCE);
    // 40 rows: a 5-point lead is within the noise.
    const few = recommend({ task: 'binary', validRows: 40, candidates: candidates('gbdt', 'linear') });
    assert.equal(few.recommendation, 'tenant');
    assert.ok(
      few.reasons.some((r) => /tuned candidate is trees/.test(r)),
      few.reasons.join(' '),
    );
    assert.equal(
      recommend({ task: 'binary', validRows: 40, candidates: candidates('linear', 'linear') }).recommendation,
      'tuned',
    );
    // Tuned trees that added no round to the shared model score exactly as it does: the default order.
    const unchanged = [
      withAlgorithm(cls('tenant', 0.75, 0.5), 'linear'),
      withAlgorithm(cls('shared', 0.7, 0.55), 'gbdt'),
      withAlgorithm(cls('tuned', 0.7, 0.55), 'gbdt'),
    ];
    assert.equal(defaultPreference(unchanged), DEFAULT_PREFERENCE);
    const same = recommend({ task: 'binary', validRows: 40, candidates: unchanged });
    assert.equal(same.recommendation, 'tuned');
    assert.ok(
      same.reasons.some((r) => /added nothing/.test(r)),
      same.reasons.join(' '),
    );
    // An explicit order wins, and a lead beyond the noise still decides.
    assert.equal(
      recommend({
        task: 'binary',
        validRows: 40,
        candidates: candidates('gbdt', 'linear'),
        prefer: DEFAULT_PREFERENCE,
      }).recommendation,
      'tuned',
    );
    assert.equal(
      recommend({ task: 'binary', validRows: 5000, candidates: candidates('gbdt', 'linear') }).recommendation,
      'tuned',
    );
  });

  test('candidates without metrics are skipped with a reason', () => {
    const r = recommend({
      task: 'binary',
      validRows: 200,
      candidates: [
        { mode: 'shared', ref: null, metrics: {} },
        cls('tenant', 0.7),
        { mode: 'tuned', ref: null, metrics: { accuracy: Number.NaN } },
      ],
    });
    assert.equal(r.recommendation, 'tenant');
    assert.deepEqual(
      r.candidates.map((c) => c.score),
      [null, 0.7, null],
    );
    const text = r.reasons.join(' ');
    assert.match(text, /shared: skipped, it has no accuracy on the held-out rows/);
    assert.match(text, /tuned: skipped/);
    assert.match(text, /tenant is the only candidate with metrics/);
  });

  test('no candidate with metrics, or no held-out rows, is an error naming the field', () => {
    assert.throws(
      () =>
        recommend({
          task: 'binary',
          validRows: 10,
          candidates: [{ mode: 'tenant', ref: null, metrics: {} }],
        }),
      (e: unknown) =>
        e instanceof AppError && e.code === 'unprocessable' && /candidates/.test(JSON.stringify(e)),
    );
    assert.throws(
      () => recommend({ task: 'binary', validRows: 0, candidates: [cls('tenant', 0.7)] }),
      (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && /validRows/.test(e.message),
    );
  });
});
