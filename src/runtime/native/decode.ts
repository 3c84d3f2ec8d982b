// Reads an ONNX ModelProto into a small, plain description of its one graph: input, outputs, float
// initializers and nodes with their attributes. A streaming reader of the protobuf wire format over the
// message schema onnx-proto is generated from (field numbers of onnx.proto): repeated numbers go straight
// into typed arrays — onnx-proto's generic decode makes a Long object per int64 and a Uint8Array per
// string, ~100,000 objects for a 100-tree model, which cost 2–20 ms and heap churn on every cold load.
// Anything this engine could not run exactly is refused here or in the planner with an Unsupported
// error, and the caller serves the model with ONNX Runtime instead. Pure: no I/O.
import onnxProto from 'onnx-proto';

const DT = onnxProto.onnx.TensorProto.DataType;
const AT = onnxProto.onnx.AttributeProto.AttributeType;

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
  | { type: 'ints'; value: Float64Array }
  | { type: 'floats'; value: Float32Array }
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
  /** The model's IR version (0 when absent). */
  irVersion: number;
  /** Operator set versions by domain ('' is the default ONNX domain). */
  opsets: Map<string, number>;
  input: DecodedValue;
  outputs: DecodedValue[];
  initializers: Map<string, DecodedTensor>;
  nodes: DecodedNode[];
}

// Wire types.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A protobuf message between `pos` and `end` of `buf`. */
class Reader {
  pos: number;
  private readonly view: DataView;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint as a number; refuses values beyond 2^53 (int64 sign-extended negatives included). */
  uint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Unsupported('a truncated message');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new Unsupported('an integer beyond 2^53');
        return result;
      }
      mul *= 128;
    }
    throw new Unsupported('a malformed varint');
  }

  /** An int64 varint: negative values (ten-byte two's complement) come back negative. */
  int(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Unsupported('a truncated message');
      const b = this.buf[this.pos++];
      if (i < 7) result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (i < 7) {
          if (result > Number.MAX_SAFE_INTEGER) throw new Unsupported('an integer beyond 2^53');
          return result;
        }
        // Long form: two's complement negative (or a huge positive, refused).
        return this.negative(start);
      }
      mul *= 128;
    }
    throw new Unsupported('a malformed varint');
  }

  private negative(start: number): number {
    let lo = 0n;
    for (let i = 0, p = start; p < this.pos; i++, p++) lo |= BigInt(this.buf[p] & 0x7f) << BigInt(7 * i);
    const v = BigInt.asIntN(64, lo);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Unsupported('an integer beyond 2^53');
    return Number(v);
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new Unsupported('a truncated message');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Start and end of a length-delimited field's bytes. */
  bytes(): [number, number] {
    const n = this.uint();
    const start = this.pos;
    if (start + n > this.end) throw new Unsupported('a truncated message');
    this.pos += n;
    return [start, start + n];
  }

  string(): string {
    const [a, b] = this.bytes();
    try {
      return utf8.decode(this.buf.subarray(a, b));
    } catch {
      throw new Unsupported('a string that is not UTF-8');
    }
  }

  /**
   * A string of a repeated field whose values repeat (a tree's node modes: thousands of "BRANCH_LEQ" and
   * "LEAF"): bytes equal to a `seen` string's answer that string instead of decoding a new one. At most
   * REMEMBERED strings of one length are remembered, so many distinct ones cost no quadratic search.
   */
  repeatedString(seen: Map<number, { bytes: Uint8Array; value: string }[]>): string {
    const [a, b] = this.bytes();
    const same = seen.get(b - a);
    if (same) for (const c of same) if (equalBytes(c.bytes, this.buf, a)) return c.value;
    const bytes = this.buf.subarray(a, b);
    let value: string;
    try {
      value = utf8.decode(bytes);
    } catch {
      throw new Unsupported('a string that is not UTF-8');
    }
    if (!same) seen.set(b - a, [{ bytes, value }]);
    else if (same.length < REMEMBERED) same.push({ bytes, value });
    return value;
  }

  /** Varints from here to the end: each ends with a byte below 0x80. */
  countVarints(): number {
    let n = 0;
    for (let p = this.pos; p < this.end; p++) if (this.buf[p] < 0x80) n++;
    return n;
  }

  sub(): Reader {
    const [a, b] = this.bytes();
    return new Reader(this.buf, a, b);
  }

  /** The next field: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uint();
    return [Math.floor(t / 8), t & 7];
  }

  skip(wire: number): void {
    if (wire === VARINT) this.uint();
    else if (wire === I64) this.pos += 8;
    else if (wire === LEN) this.bytes();
    else if (wire === I32) this.pos += 4;
    else throw new Unsupported(`a field of wire type ${wire}`);
    if (this.pos > this.end) throw new Unsupported('a truncated message');
  }
}

const REMEMBERED = 8;

function equalBytes(a: Uint8Array, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[at + i]) return false;
  return true;
}

/**
 * A repeated numeric field as it arrives: packed runs straight into typed arrays (a model's tree tables
 * hold thousands of values; growing plain arrays for them was most of a load's garbage), single values
 * one by one. Joined into one typed array at the end.
 */
class Repeated<A extends Float64Array | Float32Array> {
  private readonly parts: (A | number)[] = [];
  constructor(private readonly make: (n: number) => A) {}
  push(part: A | number): void {
    this.parts.push(part);
  }
  join(): A {
    const [only] = this.parts;
    if (this.parts.length === 1 && typeof only !== 'number') return only as A;
    let n = 0;
    for (const p of this.parts) n += typeof p === 'number' ? 1 : p.length;
    const out = this.make(n);
    let k = 0;
    for (const p of this.parts) {
      if (typeof p === 'number') out[k++] = p;
      else {
        out.set(p, k);
        k += p.length;
      }
    }
    return out;
  }
}

/** Adds a repeated int64 field (packed or not) to `out`. */
function readInts(r: Reader, wire: number, out: Repeated<Float64Array>): void {
  if (wire === VARINT) {
    out.push(r.int());
    return;
  }
  if (wire !== LEN) throw new Unsupported('a repeated integer of the wrong wire type');
  const s = r.sub();
  const values = new Float64Array(s.countVarints());
  for (let k = 0; !s.done(); k++) values[k] = s.int();
  out.push(values);
}

/** Adds a repeated float field (packed or not) to `out`. */
function readFloats(r: Reader, wire: number, out: Repeated<Float32Array>): void {
  if (wire === I32) {
    out.push(r.float());
    return;
  }
  if (wire !== LEN) throw new Unsupported('a repeated float of the wrong wire type');
  const s = r.sub();
  const n = (s.end - s.pos) / 4;
  if (!Number.isInteger(n)) throw new Unsupported('a truncated message');
  const values = new Float32Array(n);
  for (let k = 0; k < n; k++) values[k] = s.float();
  out.push(values);
}

function readAttribute(r: Reader): [string, AttrValue] {
  let name = '';
  let type = 0;
  let i = 0;
  let f = 0;
  let s = '';
  let hasComplex = false;
  const ints = new Repeated((n) => new Float64Array(n));
  const floats = new Repeated((n) => new Float32Array(n));
  const strings: string[] = [];
  const seen = new Map<number, { bytes: Uint8Array; value: string }[]>();
  while (!r.done()) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1:
        name = r.string();
        break;
      case 20:
        type = r.uint();
        break;
      case 2:
        f = r.float();
        break;
      case 3:
        i = r.int();
        break;
      case 4:
        s = r.string();
        break;
      case 7:
        readFloats(r, wire, floats);
        break;
      case 8:
        readInts(r, wire, ints);
        break;
      case 9:
        strings.push(r.repeatedString(seen));
        break;
      case 21:
        throw new Unsupported('attribute references');
      case 13:
        r.skip(wire); // doc_string
        break;
      default:
        hasComplex = true; // tensors, graphs, sparse tensors, type protos
        r.skip(wire);
    }
  }
  let value: AttrValue;
  if (hasComplex) value = { type: 'other' };
  else if (type === AT.INT) value = { type: 'int', value: i };
  else if (type === AT.FLOAT) value = { type: 'float', value: f };
  else if (type === AT.STRING) value = { type: 'string', value: s };
  else if (type === AT.INTS) value = { type: 'ints', value: ints.join() };
  else if (type === AT.FLOATS) value = { type: 'floats', value: floats.join() };
  else if (type === AT.STRINGS) value = { type: 'strings', value: strings };
  else value = { type: 'other' };
  return [name, value];
}

function readNode(r: Reader): DecodedNode {
  const node: DecodedNode = { opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1) node.inputs.push(r.string());
    else if (field === 2) node.outputs.push(r.string());
    else if (field === 4) node.opType = r.string();
    else if (field === 7) node.domain = r.string();
    else if (field === 5) {
      const [name, value] = readAttribute(r.sub());
      // ONNX Runtime refuses a node naming an attribute twice; a Map would silently keep the last one.
      if (node.attrs.has(name))
        throw new Unsupported(`${node.opType || 'a node'} attribute ${name} given twice`);
      node.attrs.set(name, value);
    } else if (field === 8) throw new Unsupported('a node naming a function overload');
    else r.skip(wire); // name, doc_string, metadata
  }
  return node;
}

function readTensor(r: Reader): { name: string; tensor: DecodedTensor } {
  let name = '';
  let dataType = 0;
  const dimsIn = new Repeated((n) => new Float64Array(n));
  const floatsIn = new Repeated((n) => new Float32Array(n));
  let raw: [number, number] | null = null;
  while (!r.done()) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1:
        readInts(r, wire, dimsIn);
        break;
      case 2:
        dataType = r.uint();
        break;
      case 4:
        readFloats(r, wire, floatsIn);
        break;
      case 8:
        name = r.string();
        break;
      case 9:
        raw = r.bytes();
        break;
      case 3:
        throw new Unsupported(`initializer '${name}' is segmented`);
      case 13:
      case 14:
        throw new Unsupported(`initializer '${name}' has external data`);
      case 12:
      case 16:
        r.skip(wire); // doc_string, metadata
        break;
      default:
        // Typed data of another element type; the data type check below refuses it.
        r.skip(wire);
    }
  }
  if (dataType !== DT.FLOAT) throw new Unsupported(`initializer '${name}' is not float32`);
  const dims = Array.from(dimsIn.join());
  const size = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  // raw_data, when present (even empty), is the tensor's data for ONNX Runtime: float_data is then ignored.
  if (raw) {
    if (raw[1] - raw[0] !== size * 4) throw new Unsupported(`initializer '${name}' has a wrong size`);
    data = new Float32Array(size); // a copy: aligned, and the model bytes are not kept
    const view = new DataView(r.buf.buffer, r.buf.byteOffset + raw[0], size * 4);
    for (let k = 0; k < size; k++) data[k] = view.getFloat32(k * 4, true);
  } else {
    data = floatsIn.join();
    if (data.length !== size) throw new Unsupported(`initializer '${name}' has a wrong size`);
  }
  return { name, tensor: { dims, data } };
}

function readValueInfo(r: Reader): DecodedValue {
  let name = '';
  let type: Reader | null = null;
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (field === 1) name = r.string();
    else if (field === 2) {
      if (type) throw new Unsupported(`value '${name}' has its type in parts`); // merged by protobuf
      type = r.sub();
    } else r.skip(wire);
  }
  if (!type) throw new Unsupported(`value '${name}' has no type`);
  let tensor: Reader | null = null;
  while (!type.done()) {
    const [field, wire] = type.tag();
    if (field === 1) {
      if (tensor) throw new Unsupported(`value '${name}' has its type in parts`);
      tensor = type.sub();
    } else if (field === 6)
      type.skip(wire); // denotation
    else throw new Unsupported(`value '${name}' is not a tensor`);
  }
  if (!tensor) throw new Unsupported(`value '${name}' is not a tensor`);
  let elem = 0;
  let dims: (number | null)[] | null = null;
  while (!tensor.done()) {
    const [field, wire] = tensor.tag();
    if (field === 1) elem = tensor.uint();
    else if (field === 2) {
      // A shape given twice is one shape of both parts' dimensions for protobuf (and ONNX Runtime).
      if (dims) throw new Unsupported(`value '${name}' has its shape in parts`);
      dims = [];
      const shape = tensor.sub();
      while (!shape.done()) {
        const [f2, w2] = shape.tag();
        if (f2 !== 1) {
          shape.skip(w2);
          continue;
        }
        const dim = shape.sub();
        let value: number | null = null;
        while (!dim.done()) {
          const [f3, w3] = dim.tag();
          if (f3 === 1) value = dim.int();
          else dim.skip(w3); // dim_param, denotation
        }
        dims.push(value);
      }
    } else tensor.skip(wire);
  }
  const elemType: ElemType | null = elem === DT.FLOAT ? 'float' : elem === DT.INT64 ? 'int64' : null;
  if (elem !== 0 && !elemType) throw new Unsupported(`value '${name}' has element type ${elem}`);
  return { name, elemType, dims };
}

const MODEL_LEVEL = new Set(['model-local functions', 'training information', 'a graph given in parts']);

/** A node's operator as the planner names it: `ml.` before ai.onnx.ml operators, `<domain>.` before others'. */
export function operatorKey(node: Pick<DecodedNode, 'domain' | 'opType'>): string {
  const d = node.domain;
  return `${d === 'ai.onnx.ml' ? 'ml.' : d ? `${d}.` : ''}${node.opType}`;
}

/**
 * Decodes `bytes`; throws Unsupported for what this engine does not read (several graph inputs, …).
 * With `operators`, a node whose operatorKey is not among them is refused before any initializer is
 * decoded: an imported model bound for ONNX Runtime costs no copy of its weights and no time on them.
 */
export function decodeModel(bytes: Uint8Array, operators?: ReadonlySet<string>): DecodedGraph {
  const opsets = new Map<string, number>();
  let graph: Reader | null = null;
  let irVersion = 0;
  try {
    const m = new Reader(bytes, 0, bytes.byteLength);
    while (!m.done()) {
      const [field, wire] = m.tag();
      if (field === 1) irVersion = m.int();
      else if (field === 7) {
        // Protobuf merges a message field given twice (ONNX Runtime would run both parts' nodes); this
        // reader would keep the last part only.
        if (graph) throw new Unsupported('a graph given in parts');
        graph = m.sub();
      } else if (field === 8) {
        const o = m.sub();
        let domain = '';
        let version = 0;
        while (!o.done()) {
          const [f, w] = o.tag();
          if (f === 1) domain = o.string();
          else if (f === 2) version = o.int();
          else o.skip(w);
        }
        opsets.set(domain, version);
      } else if (field === 25) throw new Unsupported('model-local functions');
      else if (field === 20) throw new Unsupported('training information');
      else m.skip(wire);
    }
  } catch (err) {
    if (err instanceof Unsupported && MODEL_LEVEL.has(err.reason)) throw err;
    throw new Unsupported('the bytes are not an ONNX model');
  }
  if (!graph) throw new Unsupported('no graph');
  const nodes: DecodedNode[] = [];
  const initializers = new Map<string, DecodedTensor>();
  const tensors: Reader[] = [];
  const inputs: DecodedValue[] = [];
  const outputs: DecodedValue[] = [];
  const g = graph;
  while (!g.done()) {
    const [field, wire] = g.tag();
    if (field === 1) nodes.push(readNode(g.sub()));
    else if (field === 5) tensors.push(g.sub());
    else if (field === 11) inputs.push(readValueInfo(g.sub()));
    else if (field === 12) outputs.push(readValueInfo(g.sub()));
    else if (field === 15) throw new Unsupported('sparse initializers');
    else g.skip(wire); // name, doc_string, value_info, quantization annotations, metadata
  }
  if (operators)
    for (const node of nodes) {
      const key = operatorKey(node);
      if (!operators.has(key)) throw new Unsupported(`operator ${key}`);
    }
  for (const t of tensors) {
    const { name, tensor } = readTensor(t);
    initializers.set(name, tensor);
  }
  // Graph inputs that are initializers (IR < 4 style) are constants, not feeds.
  const feeds = inputs.filter((v) => !initializers.has(v.name));
  if (feeds.length !== 1) throw new Unsupported(`${feeds.length} graph inputs`);
  return { irVersion, opsets, input: feeds[0], outputs, initializers, nodes };
}
