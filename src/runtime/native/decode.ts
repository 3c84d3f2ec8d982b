// Reads an ONNX ModelProto (with the onnx-proto messages the trainers write it with) into a small,
// plain description of its one graph: input, outputs, float initializers and nodes with their attributes
// as JS values. Anything this engine could not run exactly is refused here or in the planner with an
// Unsupported error, and the caller serves the model with ONNX Runtime instead. Pure: no I/O.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** This engine cannot run the model exactly as ONNX Runtime would; `reason` names what (no values). */
export class Unsupported extends Error {
  constructor(readonly reason: string) {
    super(`native engine: ${reason}`);
  }
}

export type ElemType = 'float' | 'int64';

export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'other' };

export interface DecodedNode {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

export interface DecodedTensor {
  dims: number[];
  data: Float32Array;
}

export interface DecodedValue {
  name: string;
  elemType: ElemType | null;
  /** Dimensions: a number when fixed, null when symbolic or absent. */
  dims: (number | null)[] | null;
}

export interface DecodedGraph {
  /** Operator set versions by domain ('' is the default ONNX domain). */
  opsets: Map<string, number>;
  input: DecodedValue;
  outputs: DecodedValue[];
  initializers: Map<string, DecodedTensor>;
  nodes: DecodedNode[];
}

type Long = { toNumber(): number } | number;

function num(v: Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : v.toNumber();
  if (!Number.isSafeInteger(n)) throw new Unsupported('an integer beyond 2^53');
  return n;
}

const utf8 = new TextDecoder();

function elemType(t: number | null | undefined): ElemType | null {
  if (t === DT.FLOAT) return 'float';
  if (t === DT.INT64) return 'int64';
  return null;
}

function describeValue(v: onnxProto.onnx.IValueInfoProto): DecodedValue {
  const tt = v.type?.tensorType;
  if (!tt) throw new Unsupported(`value '${v.name}' is not a tensor`);
  const et = elemType(tt.elemType);
  if (tt.elemType && !et) throw new Unsupported(`value '${v.name}' has element type ${tt.elemType}`);
  const dims = tt.shape?.dim ? tt.shape.dim.map((d) => (d.dimValue != null ? num(d.dimValue) : null)) : null;
  return { name: v.name ?? '', elemType: et, dims };
}

function tensorOf(t: onnxProto.onnx.ITensorProto): DecodedTensor {
  if (t.dataType !== DT.FLOAT) throw new Unsupported(`initializer '${t.name}' is not float32`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0)
    throw new Unsupported(`initializer '${t.name}' has external data`);
  if (t.segment) throw new Unsupported(`initializer '${t.name}' is segmented`);
  const dims = (t.dims ?? []).map(num);
  const size = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData && t.rawData.byteLength > 0) {
    if (t.rawData.byteLength !== size * 4) throw new Unsupported(`initializer '${t.name}' has a wrong size`);
    // Copied (aligned, and the decoded message's buffer is not kept); little-endian like ONNX's raw data.
    data = new Float32Array(size);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(i * 4, true);
  } else {
    const fd = t.floatData ?? [];
    if (fd.length !== size) throw new Unsupported(`initializer '${t.name}' has a wrong size`);
    data = Float32Array.from(fd);
  }
  return { dims, data };
}

function attrOf(a: onnxProto.onnx.IAttributeProto): AttrValue {
  switch (a.type) {
    case AT.INT:
      return { type: 'int', value: num(a.i as Long) };
    case AT.FLOAT:
      return { type: 'float', value: Math.fround(a.f ?? 0) };
    case AT.STRING:
      return { type: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case AT.INTS:
      return { type: 'ints', value: (a.ints ?? []).map((v) => num(v as Long)) };
    case AT.FLOATS:
      return { type: 'floats', value: (a.floats ?? []).map((v) => Math.fround(v)) };
    case AT.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    default:
      return { type: 'other' };
  }
}

/** Decodes `bytes`; throws Unsupported for what this engine does not read (several graph inputs, …). */
export function decodeModel(bytes: Uint8Array): DecodedGraph {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    throw new Unsupported('the bytes are not an ONNX model');
  }
  const g = model.graph;
  if (!g) throw new Unsupported('no graph');
  if ((model.functions?.length ?? 0) > 0) throw new Unsupported('model-local functions');
  if ((g.sparseInitializer?.length ?? 0) > 0) throw new Unsupported('sparse initializers');
  const opsets = new Map<string, number>();
  for (const o of model.opsetImport ?? []) opsets.set(o.domain ?? '', num(o.version as Long));
  const initializers = new Map<string, DecodedTensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', tensorOf(t));
  // Graph inputs that are initializers (IR < 4 style) are constants, not feeds.
  const inputs = (g.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  if (inputs.length !== 1) throw new Unsupported(`${inputs.length} graph inputs`);
  const nodes: DecodedNode[] = (g.node ?? []).map((n) => {
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) {
      if (a.refAttrName) throw new Unsupported('attribute references');
      attrs.set(a.name ?? '', attrOf(a));
    }
    return {
      opType: n.opType ?? '',
      domain: n.domain ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attrs,
    };
  });
  return {
    opsets,
    input: describeValue(inputs[0]),
    outputs: (g.output ?? []).map(describeValue),
    initializers,
    nodes,
  };
}
