// Tree-ensemble prediction. Each input is rounded to float32 and compared with the float32
// threshold, as ONNX Runtime does with a float tensor, so both give the same leaves.
import { scoresToOutput } from '../link.ts';
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

/** Probabilities n × nClasses (binary: [1 − p, p]) or values n × 1, row-major. */
export function predictTrees(model: TreeEnsemble, X: DenseMatrix): Float64Array {
  return scoresToOutput(model.task, predictRaw(model, X), X.rows, model.nOutputs);
}
