// ONNX export of fitted models: one float32 input `input` [N, nFeatures]; classifiers answer
// `probabilities` [N, nClasses] and `label` [N] (int64 class index), regressors `value` [N, 1].
import { invalid } from '../../core/errors.ts';
import type { FittedModel } from '../types.ts';
import { encodeModel, type GraphParts } from './graph.ts';
import { outputHead } from './head.ts';
import { linearGraph } from './linear.ts';
import { treeGraph } from './trees.ts';

export function exportOnnx(model: FittedModel): Uint8Array {
  if (model.nFeatures < 1) throw invalid('model.nFeatures', 'must be at least 1');
  const single = model.task !== 'multiclass';
  if (single ? model.nOutputs !== 1 : model.nOutputs < 2) {
    throw invalid(
      'model.nOutputs',
      single ? `must be 1 for ${model.task}` : 'must be the class count (>= 2)',
    );
  }
  const parts: GraphParts = { nodes: [], initializers: [], outputs: [] };
  let raw: string;
  if (model.kind === 'linear') {
    if (
      model.weights.length !== model.nOutputs * model.nFeatures ||
      model.intercepts.length !== model.nOutputs
    ) {
      throw invalid('model.weights', 'shape does not match nOutputs × nFeatures');
    }
    raw = linearGraph(model, parts);
  } else {
    if (model.baseScore.length !== model.nOutputs)
      throw invalid('model.baseScore', 'length must be nOutputs');
    raw = treeGraph(model, parts);
  }
  outputHead(model.task, model.nOutputs, raw, parts);
  return encodeModel(`tenantml_${model.kind}_${model.task}`, model.nFeatures, parts);
}
