import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { argmaxRows, outputColumns, predictLinear, predictModel } from '../../../src/ml/predict.ts';
import type { CsrMatrix, DenseMatrix, LinearModel, TreeEnsemble } from '../../../src/ml/types.ts';

const X: DenseMatrix = { kind: 'dense', rows: 2, cols: 2, data: Float64Array.of(1, 2, -1, 0) };
const Xcsr: CsrMatrix = {
  kind: 'csr',
  rows: 2,
  cols: 2,
  indptr: Int32Array.of(0, 2, 3),
  indices: Int32Array.of(0, 1, 0),
  values: Float64Array.of(1, 2, -1),
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('predictLinear', () => {
  test('binary gives [1 − p, p] per row, dense and CSR alike', () => {
    const m: LinearModel = {
      kind: 'linear',
      task: 'binary',
      nFeatures: 2,
      nOutputs: 1,
      weights: Float64Array.of(0.5, -1),
      intercepts: Float64Array.of(0.25),
    };
    const p = predictLinear(m, X);
    const z0 = 0.25 + 0.5 - 2;
    const z1 = 0.25 - 0.5;
    const want = [1 - sigmoid(z0), sigmoid(z0), 1 - sigmoid(z1), sigmoid(z1)];
    for (let t = 0; t < 4; t++) assert.ok(Math.abs(p[t] - want[t]) < 1e-15);
    assert.deepEqual(Array.from(predictLinear(m, Xcsr)), Array.from(p));
    assert.equal(outputColumns(m), 2);
    assert.deepEqual(Array.from(argmaxRows(p, 2, 2)), [0, 0]);
  });
  test('multiclass softmax and regression identity', () => {
    const mc: LinearModel = {
      kind: 'linear',
      task: 'multiclass',
      nFeatures: 2,
      nOutputs: 3,
      weights: Float64Array.of(1, 0, 0, 1, 0, 0),
      intercepts: Float64Array.of(0, 0, 0),
    };
    const p = predictLinear(mc, X);
    const e = [Math.exp(1), Math.exp(2), 1];
    const s = e[0] + e[1] + e[2];
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(p[k] - e[k] / s) < 1e-15);
    const reg: LinearModel = {
      kind: 'linear',
      task: 'regression',
      nFeatures: 2,
      nOutputs: 1,
      weights: Float64Array.of(2, 3),
      intercepts: Float64Array.of(1),
    };
    assert.deepEqual(Array.from(predictLinear(reg, X)), [9, -1]);
    assert.throws(() => predictLinear(reg, { kind: 'dense', rows: 1, cols: 3, data: new Float64Array(3) }));
  });
});

describe('predictModel', () => {
  test('dispatches tree ensembles (CSR input made dense) with the same output convention', () => {
    const stump: TreeEnsemble = {
      kind: 'gbdt',
      task: 'binary',
      nFeatures: 2,
      nOutputs: 1,
      baseScore: Float64Array.of(0),
      trees: [
        {
          output: 0,
          feature: Int32Array.of(0, 0, 0),
          threshold: Float32Array.of(0, 0, 0),
          left: Int32Array.of(1, -1, -1),
          right: Int32Array.of(2, -1, -1),
          missingLeft: Uint8Array.of(0, 0, 0),
          value: Float64Array.of(0, -2, 2),
        },
      ],
    };
    const p = predictModel(stump, Xcsr);
    const want = [1 - sigmoid(2), sigmoid(2), 1 - sigmoid(-2), sigmoid(-2)];
    for (let t = 0; t < 4; t++) assert.ok(Math.abs(p[t] - want[t]) < 1e-15);
    assert.deepEqual(Array.from(predictModel(stump, X)), Array.from(p));
  });
});
