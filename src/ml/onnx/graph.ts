// Small builders over onnx-proto's generated messages: tensors, attributes, nodes, value infos.
// onnx-proto is CommonJS without named-export hints, so it is imported whole and unpacked here.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

export type Attr = onnxProto.onnx.IAttributeProto;
export type Node = onnxProto.onnx.INodeProto;
export type Tensor = onnxProto.onnx.ITensorProto;
export type ValueInfo = onnxProto.onnx.IValueInfoProto;

/** A float32 initializer; values are rounded to float32 here. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Tensor {
  const data = Float32Array.from(values);
  return {
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

export const attrInt = (name: string, i: number): Attr => ({ name, type: A.INT, i });
export const attrFloats = (name: string, floats: ArrayLike<number>): Attr => ({
  name,
  type: A.FLOATS,
  floats: Array.from(floats, (v) => Math.fround(v)),
});
export const attrInts = (name: string, ints: ArrayLike<number>): Attr => ({
  name,
  type: A.INTS,
  ints: Array.from(ints),
});
export const attrString = (name: string, s: string): Attr => ({ name, type: A.STRING, s: utf8.encode(s) });
export const attrStrings = (name: string, ss: string[]): Attr => ({
  name,
  type: A.STRINGS,
  strings: ss.map((s) => utf8.encode(s)),
});

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attribute: Attr[] = [],
  domain = '',
): Node {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute, domain };
}

/** A tensor value [N, ...dims] with a symbolic batch dimension N. */
export function valueInfo(name: string, elemType: 'float' | 'int64', dims: number[]): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType === 'float' ? FLOAT : INT64,
        shape: { dim: [{ dimParam: 'N' }, ...dims.map((d) => ({ dimValue: d }))] },
      },
    },
  };
}

export interface GraphParts {
  nodes: Node[];
  initializers: Tensor[];
  outputs: ValueInfo[];
}

/** Wraps a graph over the one `input` [N, nFeatures] into an encoded ModelProto (IR 8, opsets 17 / ml 3). */
export function encodeModel(name: string, nFeatures: number, parts: GraphParts): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'tenantml',
    producerVersion: '0.1.0',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    graph: {
      name,
      node: parts.nodes,
      initializer: parts.initializers,
      input: [valueInfo('input', 'float', [nFeatures])],
      output: parts.outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
