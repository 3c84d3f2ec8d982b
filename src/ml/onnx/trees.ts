// Tree ensembles as ai.onnx.ml TreeEnsembleRegressor producing raw scores [N, K]; the head applies
// Sigmoid/Softmax. The regressor (not TreeEnsembleClassifier) is used for exact parity: its meaning is
// plain (per target, SUM of leaf weights plus base_values, post_transform NONE), while the classifier's
// binary case expands one score column into two with its own rules for base_values and LOGISTIC that
// predictTrees would have to mimic. Explicit Sigmoid/Softmax nodes are the same math as predictTrees.
import type { TreeEnsemble } from '../types.ts';
import { attrFloats, attrInt, attrInts, attrString, attrStrings, type GraphParts, node } from './graph.ts';

export function treeGraph(model: TreeEnsemble, parts: GraphParts): string {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const tTree: number[] = [];
  const tNode: number[] = [];
  const tIds: number[] = [];
  const tWeights: number[] = [];
  model.trees.forEach((tree, t) => {
    for (let i = 0; i < tree.left.length; i++) {
      treeIds.push(t);
      nodeIds.push(i);
      const leaf = tree.left[i] === -1;
      featureIds.push(leaf ? 0 : tree.feature[i]);
      modes.push(leaf ? 'LEAF' : 'BRANCH_LT');
      values.push(leaf ? 0 : tree.threshold[i]);
      // x < threshold is the "true" branch, i.e. our left child.
      trueIds.push(leaf ? 0 : tree.left[i]);
      falseIds.push(leaf ? 0 : tree.right[i]);
      missingTrue.push(leaf ? 0 : tree.missingLeft[i]);
      if (leaf) {
        tTree.push(t);
        tNode.push(i);
        tIds.push(tree.output);
        tWeights.push(tree.value[i]);
      }
    }
  });
  parts.nodes.push(
    node(
      'TreeEnsembleRegressor',
      ['input'],
      ['raw'],
      [
        attrInt('n_targets', model.nOutputs),
        attrString('aggregate_function', 'SUM'),
        attrString('post_transform', 'NONE'),
        attrFloats('base_values', model.baseScore),
        attrInts('nodes_treeids', treeIds),
        attrInts('nodes_nodeids', nodeIds),
        attrInts('nodes_featureids', featureIds),
        attrStrings('nodes_modes', modes),
        attrFloats('nodes_values', values),
        attrInts('nodes_truenodeids', trueIds),
        attrInts('nodes_falsenodeids', falseIds),
        attrInts('nodes_missing_value_tracks_true', missingTrue),
        attrInts('target_treeids', tTree),
        attrInts('target_nodeids', tNode),
        attrInts('target_ids', tIds),
        attrFloats('target_weights', tWeights),
      ],
      'ai.onnx.ml',
    ),
  );
  return 'raw';
}
