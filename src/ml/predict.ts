// Predictions from fitted parameters, in TypeScript (the ONNX graph computes the same numbers).
// Output convention shared with the tree ensembles: n × C row-major, where C is the number of classes
// (binary gives two columns [1 − p, p]) or 1 for regression.
import { toDense } from './featurizer.ts';
import { predictTrees } from './gbdt/predict.ts';
import { scoresToOutput } from './link.ts';
import type { FittedModel, LinearModel, Matrix } from './types.ts';

export function outputColumns(model: FittedModel): number {
  return model.task === 'binary' ? 2 : model.task === 'multiclass' ? model.nOutputs : 1;
}

export function predictLinear(model: LinearModel, X: Matrix): Float64Array {
  if (X.cols !== model.nFeatures) throw new Error(`expected ${model.nFeatures} features, got ${X.cols}`);
  const n = X.rows;
  const d = X.cols;
  const K = model.nOutputs;
  const W = model.weights;
  const z = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      let s = model.intercepts[k];
      const kb = k * d;
      if (X.kind === 'dense') {
        const base = i * d;
        for (let j = 0; j < d; j++) s += W[kb + j] * X.data[base + j];
      } else {
        for (let q = X.indptr[i]; q < X.indptr[i + 1]; q++) s += W[kb + X.indices[q]] * X.values[q];
      }
      z[i * K + k] = s;
    }
  }
  return scoresToOutput(model.task, z, n, K);
}

/** Linear models take dense or CSR input; tree ensembles get a dense copy of CSR input. */
export function predictModel(model: FittedModel, X: Matrix): Float64Array {
  if (model.kind === 'linear') return predictLinear(model, X);
  return predictTrees(model, toDense(X));
}

/** Index of the largest column per row: the predicted class. */
export function argmaxRows(p: Float64Array, n: number, C: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < C; k++) if (p[i * C + k] > p[i * C + best]) best = k;
    out[i] = best;
  }
  return out;
}
