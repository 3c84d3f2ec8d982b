// Shapes shared across the learning code: matrices, tasks and fitted model parameters.
// Pure data: typed arrays in, parameters out. Nothing here does I/O.

export type Task = 'binary' | 'multiclass' | 'regression';
export type Algorithm = 'linear' | 'gbdt';

/** Row-major dense matrix. Missing values are NaN (trees route them; linear models never see them). */
export interface DenseMatrix {
  kind: 'dense';
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Compressed sparse rows, for hashed text features. */
export interface CsrMatrix {
  kind: 'csr';
  rows: number;
  cols: number;
  indptr: Int32Array; // length rows + 1
  indices: Int32Array;
  values: Float64Array;
}

export type Matrix = DenseMatrix | CsrMatrix;

/**
 * A fitted linear model. `weights` is nOutputs × nFeatures, row-major.
 * binary: one output, p(class 1) = sigmoid(w·x + b); multiclass: softmax over nOutputs = nClasses;
 * regression: one output, the value.
 */
export interface LinearModel {
  kind: 'linear';
  task: Task;
  nFeatures: number;
  nOutputs: number;
  weights: Float64Array;
  intercepts: Float64Array;
}

/**
 * A fitted tree ensemble. Trees are stored flat. A node is a leaf when `left[i] === -1`.
 * Internal node i sends x to the left when x[feature[i]] < threshold[i] (a NaN goes left when
 * `missingLeft[i]` is 1). Leaf values are raw scores; the prediction for output k is
 * baseScore[k] + the sum of leaf values of the trees whose `treeOutput` is k.
 * binary: one output through sigmoid; multiclass: nClasses outputs through softmax; regression: identity.
 */
export interface TreeEnsemble {
  kind: 'gbdt';
  task: Task;
  nFeatures: number;
  nOutputs: number;
  baseScore: Float64Array;
  trees: Tree[];
}

export interface Tree {
  /** Which output (class) this tree adds to. */
  output: number;
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  /** Leaf value at leaves, 0 at internal nodes. */
  value: Float64Array;
}

export type FittedModel = LinearModel | TreeEnsemble;
