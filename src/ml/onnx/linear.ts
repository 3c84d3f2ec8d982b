// Linear models as MatMul + Add over float32 weights.
import type { LinearModel } from '../types.ts';
import { floatTensor, type GraphParts, node } from './graph.ts';

export function linearGraph(model: LinearModel, parts: GraphParts): string {
  const { nFeatures: F, nOutputs: K, weights } = model;
  // weights are K × F row-major; MatMul wants F × K.
  const wt = new Float32Array(F * K);
  for (let k = 0; k < K; k++) for (let f = 0; f < F; f++) wt[f * K + k] = weights[k * F + f];
  parts.initializers.push(floatTensor('W', [F, K], wt));
  parts.initializers.push(floatTensor('B', [K], model.intercepts));
  parts.nodes.push(node('MatMul', ['input', 'W'], ['xw']));
  parts.nodes.push(node('Add', ['xw', 'B'], ['raw']));
  return 'raw';
}
