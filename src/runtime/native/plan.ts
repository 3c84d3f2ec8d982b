// Compiles a decoded graph into a list of steps over typed arrays and runs it. Every value of the graph is
// a row-major [rows, cols] tensor whose column count is fixed at compile time; the operators are exactly
// those tenantml's trainers export (TreeEnsembleRegressor, MatMul, Add, Sub, Identity, Sigmoid, Concat,
// Softmax, ArgMax), with the attribute values they use. Anything else — another operator, attribute,
// type, shape or opset — is Unsupported, and the model is served by ONNX Runtime. Pure: no I/O.
import type { Outputs } from '../batcher.ts';
import {
  type DecodedGraph,
  type DecodedNode,
  decodeModel,
  type ElemType,
  operatorKey,
  Unsupported,
} from './decode.ts';
import { argmaxRows, binary, concatCols, GEMM_STRIDE_K, matmul, sigmoidRows, softmaxRows } from './ops.ts';
import { compileTrees, runTrees, type TreePlan, treeBytes } from './trees.ts';

/** A compiled graph: runs `rows` rows of `nFeatures` float32 features. */
export interface NativePlan {
  readonly inputName: string;
  readonly nFeatures: number;
  /** Bytes of the typed arrays the plan holds (weights, tree tables). */
  readonly bytes: number;
  /** Which operators the graph runs, for reports. */
  readonly ops: string[];
  run(input: Float32Array, rows: number): Outputs;
}

interface Slot {
  elem: ElemType;
  /** Columns per row; rank 1 values ([N]) have 1. */
  cols: number;
  rank: 1 | 2;
  /** A constant (initializer) instead of a per-row value: `data` has `cols` values. */
  constant: Float32Array | null;
}

type Values = (Float32Array | BigInt64Array | undefined)[];
type Step = (v: Values, rows: number) => void;

const DEFAULT_OPSET = { min: 7, max: 22 };
const ML_OPSET = { min: 1, max: 4 };
const MAX_IR_VERSION = 10;
/** The operators compileGraph's switch compiles (operatorKey names). */
const OPERATORS: ReadonlySet<string> = new Set([
  'ml.TreeEnsembleRegressor',
  'MatMul',
  'Add',
  'Sub',
  'Identity',
  'Sigmoid',
  'Concat',
  'Softmax',
  'ArgMax',
]);

function attrsOnly(node: DecodedNode, allowed: string[]): void {
  for (const k of node.attrs.keys())
    if (!allowed.includes(k)) throw new Unsupported(`${node.opType} attribute ${k}`);
}

function intAttr(node: DecodedNode, name: string, dflt: number): number {
  const a = node.attrs.get(name);
  if (!a) return dflt;
  if (a.type !== 'int') throw new Unsupported(`${node.opType} ${name} of type ${a.type}`);
  return a.value;
}

/** Compiles the ONNX bytes for `nFeatures` input columns; throws Unsupported for any graph it cannot run exactly. */
export function compileOnnx(bytes: Uint8Array, nFeatures: number): NativePlan {
  return compileGraph(decodeModel(bytes, OPERATORS), nFeatures);
}

export function compileGraph(g: DecodedGraph, nFeatures: number): NativePlan {
  for (const [domain, v] of g.opsets) {
    const range = domain === '' ? DEFAULT_OPSET : domain === 'ai.onnx.ml' ? ML_OPSET : null;
    if (!range) throw new Unsupported(`operator domain ${domain}`);
    if (v < range.min || v > range.max) throw new Unsupported(`opset ${domain || 'ai.onnx'} ${v}`);
  }
  // ONNX Runtime refuses an IR version newer than it knows; let it decide on anything past the one the
  // trainers write (8) and the versions measured (up to 10).
  if (g.irVersion > MAX_IR_VERSION) throw new Unsupported(`IR version ${g.irVersion}`);
  const opset = g.opsets.get('') ?? 0;
  if (g.input.elemType !== 'float') throw new Unsupported('the input is not float32');
  if (g.input.dims) {
    if (g.input.dims.length !== 2) throw new Unsupported('the input is not [N, features]');
    const [rowsDim, colsDim] = g.input.dims;
    if (rowsDim !== null) throw new Unsupported('the input has a fixed row count');
    if (colsDim !== null && colsDim !== nFeatures)
      throw new Unsupported('the input has another feature count');
  }

  const ids = new Map<string, number>();
  const slots: Slot[] = [];
  const constants: Float32Array[] = [];
  const define = (name: string, s: Slot): number => {
    if (!name || ids.has(name)) throw new Unsupported(`value '${name}' is defined twice or has no name`);
    ids.set(name, slots.length);
    slots.push(s);
    return slots.length - 1;
  };
  const inputId = define(g.input.name, { elem: 'float', cols: nFeatures, rank: 2, constant: null });
  for (const [name, t] of g.initializers) {
    if (name === g.input.name) continue;
    // Constants of shape [], [c] or [1, c]: one row broadcast over every row.
    if (t.dims.length > 2 || (t.dims.length === 2 && t.dims[0] !== 1)) {
      // Matrices (MatMul weights) are read by their node; keep their shape there.
      ids.set(name, -1 - constants.length);
      constants.push(t.data);
      continue;
    }
    define(name, { elem: 'float', cols: t.data.length, rank: 2, constant: t.data });
  }
  const initializer = (name: string) => g.initializers.get(name);
  const use = (node: DecodedNode, i: number): number => {
    const name = node.inputs[i];
    const id = ids.get(name);
    if (id === undefined || id < 0)
      throw new Unsupported(`${node.opType} reads '${name}' before it is defined`);
    return id;
  };
  const perRow = (node: DecodedNode, id: number, elem: ElemType = 'float'): Slot => {
    const s = slots[id];
    if (s.constant || s.rank !== 2 || s.elem !== elem)
      throw new Unsupported(
        `${node.opType} on a ${s.constant ? 'constant' : `rank-${s.rank} ${s.elem}`} value`,
      );
    return s;
  };

  const steps: Step[] = [];
  let bytes = 0;
  const ops = new Set<string>();
  for (const node of g.nodes) {
    // A node of a domain the model imports no opset of: ONNX Runtime refuses the model (ai.onnx.ml) or
    // runs it at its own latest opset (the default domain) — not a version checked above.
    if (!g.opsets.has(node.domain))
      throw new Unsupported(`${node.opType} of a domain without an opset import`);
    const key = operatorKey(node);
    ops.add(key);
    const arity = (nIn: number, nOut: number) => {
      if (node.inputs.length !== nIn || node.outputs.length !== nOut || node.inputs.some((x) => !x))
        throw new Unsupported(
          `${node.opType} with ${node.inputs.length} inputs and ${node.outputs.length} outputs`,
        );
    };
    switch (key) {
      case 'ml.TreeEnsembleRegressor': {
        arity(1, 1);
        const x = use(node, 0);
        const xs = perRow(node, x);
        const plan = compileTrees(node);
        if (plan.maxFeature >= xs.cols) throw new Unsupported('a tree reads a feature beyond the input');
        bytes += treeBytes(plan);
        const out = define(node.outputs[0], { elem: 'float', cols: plan.nTargets, rank: 2, constant: null });
        const cols = xs.cols;
        steps.push(step.trees(plan, x, out, cols));
        break;
      }
      case 'MatMul': {
        arity(2, 1);
        const x = use(node, 0);
        const xs = perRow(node, x);
        const w = initializer(node.inputs[1]);
        if (w?.dims.length !== 2 || w.dims[0] !== xs.cols)
          throw new Unsupported('MatMul by something other than a [features, outputs] initializer');
        attrsOnly(node, []);
        const k = xs.cols;
        // Up to one block of MLAS's SGEMM the sum runs along k and is reproduced bit for bit; beyond it
        // MLAS splits k in an order not reproduced here (differences reach 1e-6 relative).
        if (k > GEMM_STRIDE_K) throw new Unsupported(`MatMul over more than ${GEMM_STRIDE_K} features`);
        const n = w.dims[1];
        const weights = w.data;
        bytes += weights.byteLength;
        const out = define(node.outputs[0], { elem: 'float', cols: n, rank: 2, constant: null });
        steps.push(step.matmul(x, out, k, weights, n));
        break;
      }
      case 'Add':
      case 'Sub': {
        arity(2, 1);
        attrsOnly(node, []);
        const a = use(node, 0);
        const b = use(node, 1);
        const sa = slots[a];
        const sb = slots[b];
        if (sa.elem !== 'float' || sb.elem !== 'float' || sa.rank !== 2 || sb.rank !== 2)
          throw new Unsupported(`${node.opType} of non-float or rank-1 values`);
        if (sa.constant && sb.constant) throw new Unsupported(`${node.opType} of two constants`);
        // Numpy broadcasting over [N, c] and [1, c] / [c] / [1]: widths equal, or one of them 1.
        const cols = Math.max(sa.cols, sb.cols);
        if ((sa.cols !== cols && sa.cols !== 1) || (sb.cols !== cols && sb.cols !== 1))
          throw new Unsupported(`${node.opType} of incompatible widths`);
        if (sa.constant === null && sb.constant === null && sa.cols !== sb.cols)
          throw new Unsupported(`${node.opType} broadcasting one per-row value over another`);
        const op = node.opType === 'Add' ? 'add' : 'sub';
        if (sa.constant) bytes += sa.constant.byteLength;
        if (sb.constant) bytes += sb.constant.byteLength;
        const out = define(node.outputs[0], { elem: 'float', cols, rank: 2, constant: null });
        steps.push(step.binary(op, { id: a, ...sa }, { id: b, ...sb }, out, cols));
        break;
      }
      case 'Identity':
      case 'Sigmoid': {
        arity(1, 1);
        attrsOnly(node, []);
        const x = use(node, 0);
        const xs = perRow(node, x);
        const out = define(node.outputs[0], { ...xs, constant: null });
        steps.push(node.opType === 'Identity' ? step.identity(x, out) : step.sigmoid(x, out));
        break;
      }
      case 'Concat': {
        if (node.outputs.length !== 1 || node.inputs.length < 1 || node.inputs.some((x) => !x))
          throw new Unsupported('Concat with optional inputs or several outputs');
        attrsOnly(node, ['axis']);
        const axis = intAttr(node, 'axis', Number.NaN);
        if (axis !== 1 && axis !== -1) throw new Unsupported(`Concat on axis ${axis}`);
        const parts = node.inputs.map((_, i) => use(node, i));
        const widths = parts.map((p) => perRow(node, p).cols);
        const out = define(node.outputs[0], {
          elem: 'float',
          cols: widths.reduce((s, c) => s + c, 0),
          rank: 2,
          constant: null,
        });
        steps.push(step.concat(parts, widths, out));
        break;
      }
      case 'Softmax': {
        arity(1, 1);
        attrsOnly(node, ['axis']);
        // Opset 13+: along `axis` (default -1); before: rows flattened at `axis` (default 1). For a
        // [N, c] input both mean "each row" when the axis is 1 or -1.
        const axis = intAttr(node, 'axis', opset >= 13 ? -1 : 1);
        if (axis !== 1 && axis !== -1) throw new Unsupported(`Softmax on axis ${axis}`);
        const x = use(node, 0);
        const xs = perRow(node, x);
        const out = define(node.outputs[0], { ...xs, constant: null });
        const cols = xs.cols;
        steps.push(step.softmax(x, out, cols));
        break;
      }
      case 'ArgMax': {
        arity(1, 1);
        attrsOnly(node, ['axis', 'keepdims', 'select_last_index']);
        const axis = intAttr(node, 'axis', 0);
        if (axis !== 1 && axis !== -1) throw new Unsupported(`ArgMax on axis ${axis}`);
        const keepdims = intAttr(node, 'keepdims', 1);
        if (keepdims !== 0 && keepdims !== 1) throw new Unsupported(`ArgMax keepdims ${keepdims}`);
        if (intAttr(node, 'select_last_index', 0) !== 0) throw new Unsupported('ArgMax select_last_index');
        const x = use(node, 0);
        const xs = perRow(node, x);
        const out = define(node.outputs[0], {
          elem: 'int64',
          cols: 1,
          rank: keepdims ? 2 : 1,
          constant: null,
        });
        const cols = xs.cols;
        steps.push(step.argmax(x, out, cols));
        break;
      }
      default:
        throw new Unsupported(`operator ${key}`);
    }
  }

  if (g.outputs.length === 0) throw new Unsupported('no outputs');
  const outs = g.outputs.map((o) => {
    const id = ids.get(o.name);
    if (id === undefined || id < 0 || id === inputId)
      throw new Unsupported(`output '${o.name}' is not computed`);
    const s = slots[id];
    if (s.constant) throw new Unsupported(`output '${o.name}' is a constant`);
    if (o.elemType && o.elemType !== s.elem)
      throw new Unsupported(`output '${o.name}' is declared ${o.elemType}`);
    if (o.dims) {
      const want = s.rank === 2 ? [null, s.cols] : [null];
      if (o.dims.length !== want.length || o.dims.some((d, i) => d !== null && i > 0 && d !== want[i]))
        throw new Unsupported(`output '${o.name}' is declared with another shape`);
    }
    return { name: o.name, id, cols: s.cols, rank: s.rank };
  });
  return makePlan(g.input.name, nFeatures, bytes, [...ops], inputId, slots.length, steps, outs);
}

/**
 * Step factories and the plan object live at module level: a closure made inside compileGraph would keep
 * its whole scope alive — the decoded graph with every attribute array — for as long as the model is cached.
 */
const step = {
  trees:
    (plan: TreePlan, x: number, out: number, cols: number): Step =>
    (v, rows) => {
      v[out] = runTrees(plan, v[x] as Float32Array, rows, cols);
    },
  matmul:
    (x: number, out: number, k: number, w: Float32Array, n: number): Step =>
    (v, rows) => {
      v[out] = matmul(v[x] as Float32Array, rows, k, w, n);
    },
  binary:
    (
      op: 'add' | 'sub',
      a: Slot & { id: number },
      b: Slot & { id: number },
      out: number,
      cols: number,
    ): Step =>
    (v, rows) => {
      const ca = a.constant;
      const cb = b.constant;
      v[out] = binary(
        op,
        ca ?? (v[a.id] as Float32Array),
        ca === null,
        a.cols,
        cb ?? (v[b.id] as Float32Array),
        cb === null,
        b.cols,
        rows,
        cols,
      );
    },
  identity:
    (x: number, out: number): Step =>
    (v) => {
      v[out] = v[x];
    },
  sigmoid:
    (x: number, out: number): Step =>
    (v) => {
      v[out] = sigmoidRows(v[x] as Float32Array);
    },
  concat:
    (parts: number[], widths: number[], out: number): Step =>
    (v, rows) => {
      v[out] = concatCols(
        parts.map((p, i) => ({ data: v[p] as Float32Array, cols: widths[i] })),
        rows,
      );
    },
  softmax:
    (x: number, out: number, cols: number): Step =>
    (v, rows) => {
      v[out] = softmaxRows(v[x] as Float32Array, rows, cols);
    },
  argmax:
    (x: number, out: number, cols: number): Step =>
    (v, rows) => {
      v[out] = argmaxRows(v[x] as Float32Array, rows, cols);
    },
};

function makePlan(
  inputName: string,
  nFeatures: number,
  bytes: number,
  ops: string[],
  inputId: number,
  nSlots: number,
  steps: Step[],
  outs: { name: string; id: number; cols: number; rank: 1 | 2 }[],
): NativePlan {
  return {
    inputName,
    nFeatures,
    bytes,
    ops,
    run(input: Float32Array, rows: number): Outputs {
      if (input.length !== rows * nFeatures) throw new Error('input length does not match rows × features');
      const v: Values = new Array(nSlots);
      v[inputId] = input;
      for (let i = 0; i < steps.length; i++) steps[i](v, rows);
      const res: Outputs = {};
      for (const o of outs) {
        res[o.name] = {
          data: v[o.id] as Float32Array | BigInt64Array,
          dims: o.rank === 2 ? [rows, o.cols] : [rows],
        };
      }
      return res;
    },
  };
}
