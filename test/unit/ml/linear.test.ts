import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitLogistic, fitRidge, lbfgs } from '../../../src/ml/linear/index.ts';
import { accuracy } from '../../../src/ml/metrics.ts';
import { argmaxRows, predictLinear } from '../../../src/ml/predict.ts';
import { createRng } from '../../../src/ml/rng.ts';
import type { CsrMatrix, DenseMatrix } from '../../../src/ml/types.ts';

const rng = createRng(42);
function gauss(): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
function randomDense(n: number, d: number): DenseMatrix {
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = gauss();
  return { kind: 'dense', rows: n, cols: d, data };
}
function toCsr(m: DenseMatrix): CsrMatrix {
  const indptr = new Int32Array(m.rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[r * m.cols + j];
      if (v !== 0) {
        idx.push(j);
        val.push(v);
      }
    }
    indptr[r + 1] = idx.length;
  }
  return {
    kind: 'csr',
    rows: m.rows,
    cols: m.cols,
    indptr,
    indices: Int32Array.from(idx),
    values: Float64Array.from(val),
  };
}
function predictClass(
  model: Parameters<typeof predictLinear>[0],
  X: DenseMatrix | CsrMatrix,
  C: number,
): Int32Array {
  return argmaxRows(predictLinear(model, X), X.rows, C);
}

describe('lbfgs', () => {
  test('minimises an ill-conditioned quadratic', () => {
    const scales = [1, 10, 100, 1000];
    const res = lbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          f += 0.5 * scales[i] * (x[i] - i) ** 2;
          g[i] = scales[i] * (x[i] - i);
        }
        return f;
      },
      new Float64Array(4),
      { gradTol: 1e-9 },
    );
    assert.ok(res.converged);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(res.x[i] - i) < 1e-8);
  });
});

describe('logistic regression', () => {
  test('learns separable data, dense and CSR alike', () => {
    const X = randomDense(400, 5);
    const y = Int32Array.from({ length: 400 }, (_, i) => (X.data[i * 5] + 2 * X.data[i * 5 + 1] > 0 ? 1 : 0));
    const fd = fitLogistic(X, y, 2, { C: 100 });
    const fs = fitLogistic(toCsr(X), y, 2, { C: 100 });
    assert.ok(fd.info.converged);
    assert.equal(accuracy(y, predictClass(fd.model, X, 2)), 1);
    for (let t = 0; t < fd.model.weights.length; t++) {
      assert.ok(Math.abs(fd.model.weights[t] - fs.model.weights[t]) < 1e-4);
    }
    // The direction found is that of the separating plane (x0 + 2 x1).
    assert.ok(Math.abs(fd.model.weights[1] / fd.model.weights[0] - 2) < 0.35);
  });

  test('multinomial with 4 classes', () => {
    const n = 800;
    const X = randomDense(n, 2);
    const centers = [
      [3, 0],
      [-3, 0],
      [0, 3],
      [0, -3],
    ];
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 4;
      X.data[2 * i] += centers[y[i]][0];
      X.data[2 * i + 1] += centers[y[i]][1];
    }
    const f = fitLogistic(X, y, 4);
    assert.equal(f.model.nOutputs, 4);
    assert.equal(f.model.task, 'multiclass');
    assert.ok(accuracy(y, predictClass(f.model, X, 4)) > 0.9);
    const p = predictLinear(f.model, X);
    for (let i = 0; i < 10; i++) {
      const s = p[4 * i] + p[4 * i + 1] + p[4 * i + 2] + p[4 * i + 3];
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  });

  test('multinomial on CSR (feature-major internally) matches dense, with warm start and prior', () => {
    const n = 300;
    const X = randomDense(n, 6);
    for (let i = 0; i < X.data.length; i++) if (rng.next() < 0.5) X.data[i] = 0;
    const y = Int32Array.from({ length: n }, (_, i) =>
      X.data[i * 6] > 0.3 ? 0 : X.data[i * 6 + 1] > 0 ? 1 : 2,
    );
    const base = Float64Array.from({ length: 18 }, (_, t) => (t % 5) - 2);
    const opts = {
      tol: 1e-9,
      init: { weights: base, intercepts: new Float64Array(3) },
      prior: { weights: base, lambda: 5 },
    };
    const dense = fitLogistic(X, y, 3, opts);
    const sparse = fitLogistic(toCsr(X), y, 3, opts);
    for (let t = 0; t < 18; t++)
      assert.ok(Math.abs(dense.model.weights[t] - sparse.model.weights[t]) < 1e-6, `w${t}`);
    for (let k = 0; k < 3; k++)
      assert.ok(Math.abs(dense.model.intercepts[k] - sparse.model.intercepts[k]) < 1e-6);
  });

  test('class weights move the decision toward the weighted class', () => {
    const n = 600;
    const X = randomDense(n, 1);
    // Overlapping classes, class 1 rare: unweighted, few rows are called 1.
    const y = Int32Array.from({ length: n }, (_, i) => (X.data[i] + 0.8 * gauss() > 1.2 ? 1 : 0));
    const plain = predictClass(fitLogistic(X, y, 2).model, X, 2);
    const balanced = predictClass(fitLogistic(X, y, 2, { classWeight: 'balanced' }).model, X, 2);
    const heavy = predictClass(fitLogistic(X, y, 2, { classWeight: [1, 20] }).model, X, 2);
    const ones = (a: Int32Array) => a.reduce((s, v) => s + v, 0);
    assert.ok(ones(balanced) > ones(plain) + 20, `${ones(balanced)} vs ${ones(plain)}`);
    assert.ok(ones(heavy) > ones(balanced));
  });

  test('a warm start reaches the same optimum in fewer iterations', () => {
    const X = randomDense(500, 20);
    const y = Int32Array.from({ length: 500 }, (_, i) =>
      X.data[i * 20] - X.data[i * 20 + 3] + gauss() > 0 ? 1 : 0,
    );
    const cold = fitLogistic(X, y, 2, { tol: 1e-8 });
    const warm = fitLogistic(X, y, 2, {
      tol: 1e-8,
      init: { weights: cold.model.weights.map((w) => w * 1.02), intercepts: cold.model.intercepts },
    });
    assert.ok(
      warm.info.iterations < cold.info.iterations,
      `${warm.info.iterations} vs ${cold.info.iterations}`,
    );
    for (let t = 0; t < 20; t++) assert.ok(Math.abs(warm.model.weights[t] - cold.model.weights[t]) < 1e-5);
  });

  test('the prior pulls weights toward the base weights as λ grows', () => {
    const X = randomDense(300, 4);
    const y = Int32Array.from({ length: 300 }, (_, i) => (X.data[i * 4] + gauss() > 0 ? 1 : 0));
    const base = Float64Array.of(-1, 2, 0.5, 3);
    let last = Number.POSITIVE_INFINITY;
    for (const lambda of [0, 1, 10, 100, 10000]) {
      const f = fitLogistic(X, y, 2, { prior: { weights: base, lambda } });
      const dist = Math.hypot(...f.model.weights.map((w, j) => w - base[j]));
      assert.ok(dist < last, `λ=${lambda}: ${dist} !< ${last}`);
      last = dist;
    }
    assert.ok(last < 0.05);
  });

  test('reports progress through onIteration', () => {
    const X = randomDense(100, 3);
    const y = Int32Array.from({ length: 100 }, (_, i) => (X.data[i * 3] > 0 ? 1 : 0));
    const losses: number[] = [];
    const f = fitLogistic(X, y, 2, { onIteration: (_, loss) => losses.push(loss) });
    assert.equal(losses.length, f.info.iterations);
    assert.ok(losses.every((l, i) => i === 0 || l <= losses[i - 1]));
  });
});

describe('ridge regression', () => {
  const n = 500;
  const d = 6;
  const X = randomDense(n, d);
  for (let i = 0; i < n; i++) X.data[i * d + 2] = X.data[i * d + 2] * 50 + 1000; // a large, offset column
  const beta = [1.5, -2, 0.03, 0.5, 4, -0.25];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 7;
    for (let j = 0; j < d; j++) s += beta[j] * X.data[i * d + j];
    y[i] = s + 1e-3 * gauss();
  }
  test('recovers known coefficients: closed form, L-BFGS and CSR input', () => {
    const closed = fitRidge(X, y, { alpha: 1e-8 });
    assert.equal(closed.solver, 'cholesky');
    for (let j = 0; j < d; j++) assert.ok(Math.abs(closed.model.weights[j] - beta[j]) < 1e-3, `w${j}`);
    assert.ok(Math.abs(closed.model.intercepts[0] - 7) < 1e-2);
    const sparse = fitRidge(toCsr(X), y, { alpha: 1e-8 });
    for (let j = 0; j < d; j++) assert.ok(Math.abs(sparse.model.weights[j] - beta[j]) < 1e-3, `csr w${j}`);
    // Standardised columns keep L-BFGS well-conditioned, as the featurizer does.
    const Z = randomDense(n, d);
    const yz = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = -3;
      for (let j = 0; j < d; j++) s += beta[j] * Z.data[i * d + j];
      yz[i] = s + 1e-3 * gauss();
    }
    const it = fitRidge(Z, yz, { alpha: 1e-8, solver: 'lbfgs', tol: 1e-10 });
    assert.equal(it.solver, 'lbfgs');
    for (let j = 0; j < d; j++) assert.ok(Math.abs(it.model.weights[j] - beta[j]) < 1e-3, `lbfgs w${j}`);
    assert.ok(Math.abs(it.model.intercepts[0] + 3) < 1e-3);
  });
  test('alpha shrinks, and closed form agrees with L-BFGS', () => {
    const Z = randomDense(200, 3);
    const yz = Float64Array.from({ length: 200 }, (_, i) => Z.data[3 * i] * 2 + gauss());
    const a = fitRidge(Z, yz, { alpha: 50 });
    const b = fitRidge(Z, yz, { alpha: 50, solver: 'lbfgs', tol: 1e-10 });
    const c = fitRidge(Z, yz, { alpha: 0.001 });
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(a.model.weights[j] - b.model.weights[j]) < 1e-5);
    assert.ok(Math.abs(a.model.weights[0]) < Math.abs(c.model.weights[0]));
  });
  test('the prior pulls ridge weights toward the base as λ grows', () => {
    const Z = randomDense(200, 3);
    const yz = Float64Array.from({ length: 200 }, (_, i) => Z.data[3 * i] * 2 + gauss());
    const base = Float64Array.of(0, 5, -5);
    const dist = [0, 10, 1000, 1e6].map((lambda) => {
      const f = fitRidge(Z, yz, { alpha: 1, prior: { weights: base, lambda } });
      return Math.hypot(...f.model.weights.map((w, j) => w - base[j]));
    });
    for (let k = 1; k < dist.length; k++) assert.ok(dist[k] < dist[k - 1]);
    assert.ok(dist[3] < 1e-3);
  });
});
