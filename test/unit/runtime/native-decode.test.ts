// The native engine's ONNX reader on repeated attribute values in every form protobuf allows: packed runs
// (what our exporter writes), one value per field (what other producers may write), several packed runs
// of one field, mixed — all one array, in order — and repeated strings, the same or many distinct.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { decodeModel, Unsupported } from '../../../src/runtime/native/decode.ts';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
const field = (num: number, bytes: ArrayLike<number>): number[] => [
  ...varint(num * 8 + 2),
  ...varint(bytes.length),
  ...Array.from(bytes),
];
const float32 = (x: number): number[] => [...new Uint8Array(new Float32Array([x]).buffer)];
const tensorInfo = (name: string) => ({
  name,
  type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } },
});

/** A model of one Identity node whose attribute message is `attrBytes`, as given. */
function modelWithAttribute(attrBytes: number[]): Uint8Array {
  const node = [
    ...onnx.NodeProto.encode({ opType: 'Identity', input: ['x'], output: ['y'] }).finish(),
    ...field(5, attrBytes),
  ];
  const graph = [
    ...onnx.GraphProto.encode({ name: 'g', input: [tensorInfo('x')], output: [tensorInfo('y')] }).finish(),
    ...field(1, node),
  ];
  const model = [
    ...onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish(),
    ...field(7, graph),
  ];
  return Uint8Array.from(model);
}

const attribute = (bytes: Uint8Array) => {
  const g = decodeModel(bytes);
  return g.nodes[0]!.attrs.get('a');
};

test('repeated ints: packed runs, single values and both mixed decode to one array in order', () => {
  const head = [...onnx.AttributeProto.encode({ name: 'a', type: AT.INTS }).finish()];
  const packed = (xs: number[]) => [...onnx.AttributeProto.encode({ ints: xs }).finish()];
  const single = (x: number) => [...varint(8 * 8), ...varint(x)];
  // Our exporter's form: one packed run.
  assert.deepEqual(attribute(modelWithAttribute([...head, ...packed([3, 400, 0])])), {
    type: 'ints',
    value: Float64Array.from([3, 400, 0]),
  });
  // One value per field, two packed runs, and a mix; a negative value in a packed run.
  const mixed = [...head, ...single(1), ...packed([2, -3]), ...single(300), ...packed([4, 5])];
  assert.deepEqual(attribute(modelWithAttribute(mixed)), {
    type: 'ints',
    value: Float64Array.from([1, 2, -3, 300, 4, 5]),
  });
  assert.deepEqual(attribute(modelWithAttribute([...head, ...single(7), ...single(8)])), {
    type: 'ints',
    value: Float64Array.from([7, 8]),
  });
  assert.deepEqual(attribute(modelWithAttribute(head)), { type: 'ints', value: new Float64Array(0) });
});

test('repeated floats: packed runs, single values and both mixed; a packed run of a wrong length is refused', () => {
  const head = [...onnx.AttributeProto.encode({ name: 'a', type: AT.FLOATS }).finish()];
  const packed = (xs: number[]) => [...onnx.AttributeProto.encode({ floats: xs }).finish()];
  const single = (x: number) => [...varint(7 * 8 + 5), ...float32(x)];
  const mixed = [...head, ...packed([0.5, -1.25]), ...single(2.5), ...packed([3]), ...single(-0)];
  assert.deepEqual(attribute(modelWithAttribute(mixed)), {
    type: 'floats',
    value: Float32Array.from([0.5, -1.25, 2.5, 3, -0]),
  });
  const ragged = [...head, ...field(7, [0, 0, 0x80, 0x3f, 0])]; // 5 bytes: one float and one byte
  assert.throws(
    () => decodeModel(modelWithAttribute(ragged)),
    (e: unknown) => e instanceof Unsupported,
  );
});

test('repeated strings: repeats and many distinct strings of one length all decode to their own value', () => {
  const modes = ['BRANCH_LEQ', 'LEAF', 'LEAF', 'BRANCH_LEQ', 'LEAF'];
  // More distinct strings of one length than the reader remembers, then repeats of the first and last.
  const labels = Array.from({ length: 20 }, (_, i) => `label-${String(i).padStart(2, '0')}`);
  const strings = [...modes, ...labels, labels[0]!, labels[19]!, 'LEAF'];
  const bytes = [
    ...onnx.AttributeProto.encode({
      name: 'a',
      type: AT.STRINGS,
      strings: strings.map((s) => new TextEncoder().encode(s)),
    }).finish(),
  ];
  assert.deepEqual(attribute(modelWithAttribute(bytes)), { type: 'strings', value: strings });
  const notUtf8 = [
    ...onnx.AttributeProto.encode({ name: 'a', type: AT.STRINGS }).finish(),
    ...field(9, [0xff]),
  ];
  assert.throws(
    () => decodeModel(modelWithAttribute(notUtf8)),
    (e: unknown) => e instanceof Unsupported,
  );
});
