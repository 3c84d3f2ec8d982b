// The shared tail of every classifier or regressor graph: raw scores [N, K] become the public
// outputs `probabilities` (+ `label`) or `value`.
import type { Task } from '../types.ts';
import { attrInt, floatTensor, type GraphParts, node, onnx, valueInfo } from './graph.ts';

export function outputHead(task: Task, nOutputs: number, raw: string, parts: GraphParts): void {
  if (task === 'regression') {
    parts.nodes.push(node('Identity', [raw], ['value']));
    parts.outputs.push(valueInfo('value', 'float', [1]));
    return;
  }
  let nClasses = nOutputs;
  if (task === 'binary') {
    // One score column → [1 − p, p], so binary and multiclass models share the output contract.
    nClasses = 2;
    parts.initializers.push(floatTensor('one', [1], [1]));
    parts.nodes.push(node('Sigmoid', [raw], ['p1']));
    parts.nodes.push(node('Sub', ['one', 'p1'], ['p0']));
    parts.nodes.push(node('Concat', ['p0', 'p1'], ['probabilities'], [attrInt('axis', 1)]));
  } else {
    parts.nodes.push(node('Softmax', [raw], ['probabilities'], [attrInt('axis', 1)]));
  }
  parts.nodes.push(
    node('ArgMax', ['probabilities'], ['label'], [attrInt('axis', 1), attrInt('keepdims', 0)]),
  );
  parts.outputs.push(valueInfo('probabilities', 'float', [nClasses]));
  parts.outputs.push({
    name: 'label',
    type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'N' }] } } },
  });
}
