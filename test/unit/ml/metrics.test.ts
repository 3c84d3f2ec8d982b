import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accuracy,
  auc,
  aucBinary,
  confusionMatrix,
  evaluate,
  expectedCalibrationError,
  f1,
  logLoss,
  mae,
  r2,
  rmse,
} from '../../../src/ml/metrics.ts';

const I = (...v: number[]) => Int32Array.from(v);
const F = (...v: number[]) => Float64Array.from(v);
const close = (a: number | null, b: number, eps = 1e-12) => {
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} != ${b}`);
};
/** Binary probabilities [1 − p, p] from p. */
const binary = (...p: number[]) => Float64Array.from(p.flatMap((x) => [1 - x, x]));

describe('classification metrics (hand-computed)', () => {
  test('AUC: ordered, with ties at average rank, undefined with one class', () => {
    close(aucBinary(I(0, 0, 1, 1), F(0.1, 0.4, 0.35, 0.8)), 0.75);
    // Pairs (pos, neg): (.5,.5) half, (.5,.2) win, (.9,.5) win, (.9,.2) win → 3.5 / 4.
    close(aucBinary(I(0, 1, 0, 1), F(0.5, 0.5, 0.2, 0.9)), 0.875);
    close(aucBinary(I(1, 0, 1, 0), F(0.3, 0.3, 0.3, 0.3)), 0.5);
    assert.equal(aucBinary(I(1, 1), F(0.2, 0.4)), null);
    close(auc(I(0, 0, 1, 1), binary(0.1, 0.4, 0.35, 0.8), 2), 0.75);
  });
  test('macro one-vs-rest AUC for multiclass', () => {
    const proba = F(0.5, 0.3, 0.2, 0.2, 0.4, 0.4, 0.2, 0.4, 0.4, 0.1, 0.8, 0.1);
    // class 0: 1; class 1: 3.5 / 4; class 2: 2.5 / 3.
    close(auc(I(0, 1, 2, 1), proba, 3), (1 + 0.875 + 2.5 / 3) / 3);
  });
  test('log-loss, accuracy, F1, confusion', () => {
    close(logLoss(I(1, 0), binary(0.8, 0.3), 2), -(Math.log(0.8) + Math.log(0.7)) / 2);
    assert.ok(Number.isFinite(logLoss(I(1), binary(0), 2)));
    close(accuracy(I(1, 0, 1, 1), I(1, 1, 1, 0)), 0.5);
    close(f1(I(1, 1, 0, 0, 1), I(1, 0, 0, 1, 1), 2), 2 / 3);
    close(f1(I(0, 1, 2, 2), I(0, 2, 2, 1), 3), (1 + 0 + 0.5) / 3);
    assert.deepEqual(confusionMatrix(I(0, 1, 2, 2), I(0, 2, 2, 1), 3), [
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 1],
    ]);
  });
  test('expected calibration error over 10 bins', () => {
    // Top confidences .95 ✓, .85 ✗, .75 ✓, .65 ✓, each alone in a bin.
    close(
      expectedCalibrationError(I(1, 0, 0, 1), binary(0.95, 0.85, 0.25, 0.65), 2),
      (0.05 + 0.85 + 0.25 + 0.35) / 4,
    );
    // Two rows in the bin (0.9, 1]: |1/2 − 0.935|.
    close(expectedCalibrationError(I(1, 0), binary(0.95, 0.92), 2), 0.435);
  });
  test('evaluate bundles them, JSON-safe', () => {
    const m = evaluate('binary', I(0, 0, 1, 1), binary(0.1, 0.4, 0.35, 0.8));
    assert.ok(m.task === 'binary');
    close(m.accuracy, 0.75);
    close(m.auc, 0.75);
    assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
    const mc = evaluate('multiclass', I(0, 1, 2), F(0.8, 0.1, 0.1, 0.2, 0.3, 0.5, 0.1, 0.1, 0.8));
    assert.ok(mc.task === 'multiclass');
    assert.deepEqual(mc.confusion, [
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
    ]);
  });
});

describe('regression metrics (hand-computed)', () => {
  test('RMSE, MAE, R²', () => {
    const y = F(1, 2, 3);
    const p = F(1, 2, 4);
    close(rmse(y, p), Math.sqrt(1 / 3));
    close(mae(y, p), 1 / 3);
    close(r2(y, p), 0.5);
    assert.equal(r2(F(2, 2), F(1, 3)), null);
    const m = evaluate('regression', y, p);
    assert.ok(m.task === 'regression');
    close(m.r2, 0.5);
  });
});
