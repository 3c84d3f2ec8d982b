// The stored form of fitted parameters (`fitted.json`, format `tenantml.fitted/1`): JSON whose typed arrays
// are base64 of their little-endian bytes, so a decoded model predicts bit-for-bit what the encoded one did.
// `loadTrained` rebuilds a TrainedModel from the three stored strings, e.g. as the base of tuned training.
import type { FeaturizerState } from './featurizer.ts';
import { MODEL_FORMAT, type ModelJson, type TrainedModel } from './train.ts';
import type { FittedModel, LinearModel, Task, Tree, TreeEnsemble } from './types.ts';

export const FITTED_FORMAT = 'tenantml.fitted/1';

type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;
type Dtype = 'f64' | 'f32' | 'i32' | 'u8';
interface EncodedArray {
  dtype: Dtype;
  length: number;
  base64: string;
}

const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TASKS: readonly Task[] = ['binary', 'multiclass', 'regression'];

function dtypeOf(a: Typed): Dtype {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

/** Bytes in little-endian order whatever the host's order is. */
function leBytes(a: Typed): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const width = a.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width)
    for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j];
  return out;
}

function encodeArray(a: Typed): EncodedArray {
  return { dtype: dtypeOf(a), length: a.length, base64: Buffer.from(leBytes(a)).toString('base64') };
}

function fail(path: string, message: string): never {
  throw new Error(`decodeFitted: ${path} ${message}`);
}

function decodeArray(v: unknown, path: string, dtype: Dtype, length?: number): Typed {
  if (typeof v !== 'object' || v === null) fail(path, 'must be an encoded array');
  const e = v as Partial<EncodedArray>;
  if (e.dtype !== dtype) fail(path, `must have dtype ${dtype}, not ${String(e.dtype)}`);
  if (typeof e.length !== 'number' || !Number.isInteger(e.length) || e.length < 0)
    fail(path, 'has no valid length');
  if (length !== undefined && e.length !== length) fail(path, `must have ${length} entries, not ${e.length}`);
  if (typeof e.base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(e.base64)) fail(path, 'is not base64');
  const Ctor = CTORS[dtype];
  const bytes = Buffer.from(e.base64, 'base64');
  if (bytes.length !== e.length * Ctor.BYTES_PER_ELEMENT)
    fail(path, `holds ${bytes.length} bytes, not ${e.length} entries`);
  // Copy into a fresh, aligned buffer (Buffer's pool offset need not be a multiple of the width).
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const width = Ctor.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN && width > 1) {
    for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  }
  return new Ctor(copy.buffer);
}

function positiveInt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(path, 'must be a positive integer');
  return v;
}

export function encodeFitted(m: FittedModel): string {
  if (m.kind === 'linear') {
    return JSON.stringify({
      format: FITTED_FORMAT,
      kind: 'linear',
      task: m.task,
      nFeatures: m.nFeatures,
      nOutputs: m.nOutputs,
      weights: encodeArray(m.weights),
      intercepts: encodeArray(m.intercepts),
    });
  }
  return JSON.stringify({
    format: FITTED_FORMAT,
    kind: 'gbdt',
    task: m.task,
    nFeatures: m.nFeatures,
    nOutputs: m.nOutputs,
    baseScore: encodeArray(m.baseScore),
    trees: m.trees.map((t) => ({
      output: t.output,
      feature: encodeArray(t.feature),
      threshold: encodeArray(t.threshold),
      left: encodeArray(t.left),
      right: encodeArray(t.right),
      missingLeft: encodeArray(t.missingLeft),
      value: encodeArray(t.value),
    })),
  });
}

export function decodeFitted(s: string): FittedModel {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(s) as Record<string, unknown>;
  } catch {
    throw new Error('decodeFitted: not JSON');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) fail('the document', 'must be an object');
  if (j.format !== FITTED_FORMAT) fail('format', `must be '${FITTED_FORMAT}'`);
  if (!TASKS.includes(j.task as Task)) fail('task', `must be one of ${TASKS.join(', ')}`);
  const task = j.task as Task;
  const nFeatures = positiveInt(j.nFeatures, 'nFeatures');
  const nOutputs = positiveInt(j.nOutputs, 'nOutputs');
  if (task !== 'multiclass' && nOutputs !== 1) fail('nOutputs', `must be 1 for ${task}`);
  if (j.kind === 'linear') {
    const model: LinearModel = {
      kind: 'linear',
      task,
      nFeatures,
      nOutputs,
      weights: decodeArray(j.weights, 'weights', 'f64', nOutputs * nFeatures) as Float64Array,
      intercepts: decodeArray(j.intercepts, 'intercepts', 'f64', nOutputs) as Float64Array,
    };
    return model;
  }
  if (j.kind !== 'gbdt') fail('kind', "must be 'linear' or 'gbdt'");
  if (!Array.isArray(j.trees)) fail('trees', 'must be an array');
  const trees: Tree[] = (j.trees as unknown[]).map((raw, k) =>
    decodeTree(raw, `trees[${k}]`, nFeatures, nOutputs),
  );
  const model: TreeEnsemble = {
    kind: 'gbdt',
    task,
    nFeatures,
    nOutputs,
    baseScore: decodeArray(j.baseScore, 'baseScore', 'f64', nOutputs) as Float64Array,
    trees,
  };
  return model;
}

function decodeTree(raw: unknown, path: string, nFeatures: number, nOutputs: number): Tree {
  if (typeof raw !== 'object' || raw === null) fail(path, 'must be an object');
  const t = raw as Record<string, unknown>;
  const output = t.output;
  if (typeof output !== 'number' || !Number.isInteger(output) || output < 0 || output >= nOutputs) {
    fail(`${path}.output`, `must be an integer in [0, ${nOutputs})`);
  }
  const left = decodeArray(t.left, `${path}.left`, 'i32') as Int32Array;
  const n = left.length;
  if (n === 0) fail(`${path}.left`, 'must not be empty');
  const tree: Tree = {
    output,
    feature: decodeArray(t.feature, `${path}.feature`, 'i32', n) as Int32Array,
    threshold: decodeArray(t.threshold, `${path}.threshold`, 'f32', n) as Float32Array,
    left,
    right: decodeArray(t.right, `${path}.right`, 'i32', n) as Int32Array,
    missingLeft: decodeArray(t.missingLeft, `${path}.missingLeft`, 'u8', n) as Uint8Array,
    value: decodeArray(t.value, `${path}.value`, 'f64', n) as Float64Array,
  };
  // Child links point forward inside the tree, so prediction always reaches a leaf.
  for (let i = 0; i < n; i++) {
    if (tree.left[i] === -1) continue;
    if (tree.left[i] <= i || tree.left[i] >= n || tree.right[i] <= i || tree.right[i] >= n) {
      fail(`${path}`, `node ${i} has a child outside the tree`);
    }
    if (tree.feature[i] < 0 || tree.feature[i] >= nFeatures)
      fail(`${path}`, `node ${i} splits on a missing feature`);
  }
  return tree;
}

/** The stored strings of a model version (fitted.json, featurizer.json, model.json). */
export interface StoredModel {
  fitted: string;
  featurizer: string;
  model: string;
}

export function loadTrained(stored: StoredModel): TrainedModel {
  const model = decodeFitted(stored.fitted);
  let featurizer: FeaturizerState;
  let modelJson: ModelJson;
  try {
    featurizer = JSON.parse(stored.featurizer) as FeaturizerState;
    modelJson = JSON.parse(stored.model) as ModelJson;
  } catch {
    throw new Error('loadTrained: featurizer or model is not JSON');
  }
  if (featurizer?.format !== 'tenantml.featurizer' || !Array.isArray(featurizer.columns)) {
    throw new Error("loadTrained: featurizer is not a 'tenantml.featurizer' document");
  }
  if (modelJson?.format !== MODEL_FORMAT)
    throw new Error(`loadTrained: model is not a '${MODEL_FORMAT}' document`);
  if (featurizer.nFeatures !== model.nFeatures) {
    throw new Error(
      `loadTrained: the featurizer gives ${featurizer.nFeatures} features, the model takes ${model.nFeatures}`,
    );
  }
  if (modelJson.task !== model.task || modelJson.algorithm !== model.kind) {
    throw new Error(
      `loadTrained: model.json describes ${modelJson.algorithm}/${modelJson.task}, the parameters are ${model.kind}/${model.task}`,
    );
  }
  return { model, featurizer, metrics: modelJson.metrics, modelJson };
}
