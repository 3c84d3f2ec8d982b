// Tree-ensemble prediction. Each input is rounded to float32 and compared with the float32
// threshold, as ONNX Runtime does with a float tensor, so both give the same leaves.
import type { DenseMatrix, Tree, TreeEnsemble } from '../types.ts';

/** Adds one tree's leaf values to column `tree.output` of raw scores (row-major n × K). */
export function addTreeScores(tree: Tree, X: DenseMatrix, scores: Float64Array, K: number): void {
  const { rows, cols, data } = X;
  const { feature, threshold, left, right, missingLeft, value } = tree;
  const k = tree.output;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let node = 0;
    while (left[node] !== -1) {
      const x = Math.fround(data[base + feature[node]]);
      if (x < threshold[node]) node = left[node];
      else if (missingLeft[node] === 1 && Number.isNaN(x)) node = left[node];
      else node = right[node];
    }
    scores[r * K + k] += value[node];
  }
}

/** Raw scores n × nOutputs: base score plus the sum of the trees of each output. */
export function predictRaw(model: TreeEnsemble, X: DenseMatrix): Float64Array {
  const K = model.nOutputs;
  const scores = new Float64Array(X.rows * K);
  for (let r = 0; r < X.rows; r++) for (let k = 0; k < K; k++) scores[r * K + k] = model.baseScore[k];
  for (const tree of model.trees) addTreeScores(tree, X, scores, K);
  return scores;
}

/** Raw scores → probabilities (binary: two columns [1 − p, p]; multiclass: softmax) or values (n × 1). */
export function transformScores(model: TreeEnsemble, scores: Float64Array, rows: number): Float64Array {
  if (model.task === 'regression') return scores;
  if (model.task === 'binary') {
    const out = new Float64Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      const p = 1 / (1 + Math.exp(-scores[r]));
      out[2 * r] = 1 - p;
      out[2 * r + 1] = p;
    }
    return out;
  }
  const K = model.nOutputs;
  const out = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    const o = r * K;
    let max = scores[o];
    for (let k = 1; k < K; k++) if (scores[o + k] > max) max = scores[o + k];
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(scores[o + k] - max);
      out[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) out[o + k] /= sum;
  }
  return out;
}

/** Probabilities n × nClasses (binary: [1 − p, p]) or values n × 1, row-major. */
export function predictTrees(model: TreeEnsemble, X: DenseMatrix): Float64Array {
  return transformScores(model, predictRaw(model, X), X.rows);
}
