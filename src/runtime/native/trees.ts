// ai.onnx.ml TreeEnsembleRegressor compiled into flat typed arrays (one slot per node, no per-node
// objects) and evaluated the way ONNX Runtime's CPU kernel does with one thread: trees in the order their
// first node appears, float32 thresholds compared with the float32 input, leaf weights summed in float32
// tree after tree from 0, then base_values added; NaN follows the missing-value track. Everything the
// kernel would read differently (other aggregate functions, post transforms, double thresholds,
// malformed trees) is refused with Unsupported. Pure: no I/O.
import { type AttrValue, type DecodedNode, Unsupported } from './decode.ts';

export const MODE = { BRANCH_LEQ: 0, BRANCH_LT: 1, BRANCH_GTE: 2, BRANCH_GT: 3, BRANCH_EQ: 4, BRANCH_NEQ: 5 };
const LEAF = 255;

export interface TreePlan {
  nTargets: number;
  /** Index of each tree's root node, in evaluation order. */
  roots: Int32Array;
  /**
   * One word per node: -1 for a leaf; for a branch, its feature index in the low bits (`featureMask`),
   * then one bit set when NaN takes the true branch (`missingBit`), then the distance from the branch to
   * its true child (`>>> offsetShift`); its false child is the next node. Feature, missing-value track and
   * child in one 4-byte word keep a node at 8 bytes with its value (13 as separate arrays) and cost the
   * walk one load a step.
   */
  link: Int32Array;
  featureMask: number;
  missingBit: number;
  offsetShift: number;
  /** Branch threshold, or (one target) the leaf's weight. */
  value: Float32Array;
  /** Branch modes (MODE); null when every branch is BRANCH_LT (the trainers' export: the tight loop). */
  mode: Uint8Array | null;
  /** Several targets: leaf node → its weights wTarget/wValue[leafStart[n] .. leafStart[n + 1]). */
  leafStart: Int32Array | null;
  wTarget: Int32Array | null;
  wValue: Float32Array | null;
  /** Added to each target's sum; null when the model has none. */
  base: Float32Array | null;
  /** Largest feature index read. */
  maxFeature: number;
}

/** Bits a node word gives the feature index: enough for `maxFeature`, at least one. */
function featureBits(maxFeature: number): number {
  return maxFeature < 1 ? 1 : 32 - Math.clz32(maxFeature);
}

const ALLOWED = new Set([
  'aggregate_function',
  'base_values',
  'n_targets',
  'nodes_falsenodeids',
  'nodes_featureids',
  'nodes_hitrates',
  'nodes_missing_value_tracks_true',
  'nodes_modes',
  'nodes_nodeids',
  'nodes_treeids',
  'nodes_truenodeids',
  'nodes_values',
  'post_transform',
  'target_ids',
  'target_nodeids',
  'target_treeids',
  'target_weights',
]);

interface AttrTypes {
  int: number;
  string: string;
  ints: Float64Array;
  floats: Float32Array;
  strings: string[];
}

function get<T extends keyof AttrTypes>(
  attrs: Map<string, AttrValue>,
  name: string,
  type: T,
  required: boolean,
): AttrTypes[T] | undefined {
  const a = attrs.get(name);
  if (!a) {
    if (required) throw new Unsupported(`TreeEnsembleRegressor without ${name}`);
    return undefined;
  }
  if (a.type !== type || !('value' in a))
    throw new Unsupported(`TreeEnsembleRegressor ${name} of type ${a.type}`);
  return a.value as AttrTypes[T];
}

export function compileTrees(node: DecodedNode): TreePlan {
  const a = node.attrs;
  for (const name of a.keys()) if (!ALLOWED.has(name)) throw new Unsupported(`TreeEnsembleRegressor ${name}`);
  const agg = get(a, 'aggregate_function', 'string', false) ?? 'SUM';
  if (agg !== 'SUM') throw new Unsupported(`aggregate_function ${agg}`);
  const post = get(a, 'post_transform', 'string', false) ?? 'NONE';
  if (post !== 'NONE') throw new Unsupported(`post_transform ${post}`);
  const nTargets = get(a, 'n_targets', 'int', false) ?? 1;
  if (nTargets < 1 || nTargets > 100_000) throw new Unsupported('n_targets out of range');
  const treeIds = get(a, 'nodes_treeids', 'ints', true) as Float64Array;
  const nodeIds = get(a, 'nodes_nodeids', 'ints', true) as Float64Array;
  const featureIds = get(a, 'nodes_featureids', 'ints', true) as Float64Array;
  const modes = get(a, 'nodes_modes', 'strings', true) as string[];
  const values = get(a, 'nodes_values', 'floats', true) as Float32Array;
  const trueIds = get(a, 'nodes_truenodeids', 'ints', true) as Float64Array;
  const falseIds = get(a, 'nodes_falsenodeids', 'ints', true) as Float64Array;
  const missing = get(a, 'nodes_missing_value_tracks_true', 'ints', false);
  const hitrates = get(a, 'nodes_hitrates', 'floats', false);
  const n = treeIds.length;
  if (n === 0) throw new Unsupported('no tree nodes');
  for (const arr of [nodeIds, featureIds, modes, values, trueIds, falseIds])
    if (arr.length !== n) throw new Unsupported('node attributes of different lengths');
  if (missing && missing.length !== n) throw new Unsupported('missing-value tracks of another length');
  if (hitrates && hitrates.length !== n) throw new Unsupported('hit rates of another length');

  // Nodes of one tree must be listed together (ONNX Runtime takes a tree's first node as its root).
  const index = new Map<number, Map<number, number>>();
  const rootList: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = treeIds[i];
    let m = index.get(t);
    if (!m) {
      m = new Map();
      index.set(t, m);
      rootList.push(i);
    } else if (treeIds[i - 1] !== t) throw new Unsupported('the nodes of a tree are not contiguous');
    if (m.has(nodeIds[i])) throw new Unsupported('a node id repeats in a tree');
    // ONNX Runtime refuses node ids outside [0, node count) too.
    if (nodeIds[i] < 0 || nodeIds[i] >= n) throw new Unsupported('a node id out of range');
    m.set(nodeIds[i], i);
  }

  const feature = new Int32Array(n);
  const value = new Float32Array(n);
  const mode = new Uint8Array(n);
  const trueNode = new Int32Array(n);
  const falseNode = new Int32Array(n);
  let allLt = true;
  let maxFeature = -1;
  for (let i = 0; i < n; i++) {
    const md = modes[i];
    if (md === 'LEAF') {
      mode[i] = LEAF;
      feature[i] = -1;
      continue;
    }
    const code = MODE[md as keyof typeof MODE];
    if (code === undefined) throw new Unsupported(`node mode ${md}`);
    mode[i] = code;
    if (code !== MODE.BRANCH_LT) allLt = false;
    if (featureIds[i] < 0) throw new Unsupported('a negative feature id');
    feature[i] = featureIds[i];
    if (featureIds[i] > maxFeature) maxFeature = featureIds[i];
    value[i] = values[i];
    const m = index.get(treeIds[i]) as Map<number, number>;
    const tn = m.get(trueIds[i]);
    const fn = m.get(falseIds[i]);
    if (tn === undefined || fn === undefined) throw new Unsupported('a branch to a node outside its tree');
    trueNode[i] = tn;
    falseNode[i] = fn;
    if (missing && missing[i] !== 0 && missing[i] !== 1)
      throw new Unsupported('a missing-value track other than 0 or 1');
  }
  // Leaf weights.
  const tTree = get(a, 'target_treeids', 'ints', true) as Float64Array;
  const tNode = get(a, 'target_nodeids', 'ints', true) as Float64Array;
  const tIds = get(a, 'target_ids', 'ints', true) as Float64Array;
  const tWeights = get(a, 'target_weights', 'floats', true) as Float32Array;
  const nw = tTree.length;
  if (tNode.length !== nw || tIds.length !== nw || tWeights.length !== nw)
    throw new Unsupported('target attributes of different lengths');
  const perLeaf = new Map<number, { target: number; weight: number }[]>();
  for (let j = 0; j < nw; j++) {
    const at = index.get(tTree[j])?.get(tNode[j]);
    if (at === undefined || mode[at] !== LEAF)
      throw new Unsupported('a target weight on a branch or no node');
    if (tIds[j] < 0 || tIds[j] >= nTargets) throw new Unsupported('a target id out of range');
    let list = perLeaf.get(at);
    if (!list) {
      list = [];
      perLeaf.set(at, list);
    }
    if (list.some((w) => w.target === tIds[j]))
      throw new Unsupported('two weights of one leaf for one target');
    list.push({ target: tIds[j], weight: tWeights[j] });
  }
  if (nTargets === 1) {
    for (let i = 0; i < n; i++) {
      if (mode[i] !== LEAF) continue;
      const list = perLeaf.get(i);
      if (list?.length !== 1) throw new Unsupported('a leaf without exactly one weight');
      value[i] = list[0].weight;
    }
  }

  // Final layout, tree by tree in depth-first order with each branch's false child right after it (only
  // the true child's index is stored); a node reached twice (a cycle, a shared subtree) is refused.
  const order: number[] = [];
  const at = new Int32Array(n).fill(-1);
  const roots = new Int32Array(rootList.length);
  const stack: number[] = [];
  rootList.forEach((root, t) => {
    roots[t] = order.length;
    stack.push(root);
    while (stack.length > 0) {
      const old = stack.pop() as number;
      if (at[old] !== -1) throw new Unsupported('a tree node reached twice (a cycle or a shared subtree)');
      at[old] = order.length;
      order.push(old);
      if (mode[old] !== LEAF) stack.push(trueNode[old], falseNode[old]);
    }
  });
  const size = order.length;
  const fBits = featureBits(maxFeature);
  if (fBits > 24) throw new Unsupported('a feature index too large for the native layout');
  const offsetShift = fBits + 1;
  // The word's sign bit stays clear for branches: distances up to 2^(30 - fBits) nodes (2^26 for 10
  // features, 2^14 for 65,536). A tree whose true child lies farther is left to ONNX Runtime.
  const maxOffset = 2 ** (31 - offsetShift) - 1;
  const link = new Int32Array(size);
  const fValue = new Float32Array(size);
  const fMode = allLt ? null : new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    const old = order[k];
    fValue[k] = value[old];
    if (fMode) fMode[k] = mode[old];
    if (mode[old] === LEAF) {
      link[k] = -1;
      continue;
    }
    if (at[falseNode[old]] !== k + 1) throw new Error('layout: the false child must follow its branch');
    const offset = at[trueNode[old]] - k;
    if (offset < 1 || offset > maxOffset) throw new Unsupported('a tree too large for the native layout');
    const miss = missing && missing[old] === 1 ? 1 << fBits : 0;
    link[k] = feature[old] | miss | (offset << offsetShift);
  }
  let leafStart: Int32Array | null = null;
  let wTarget: Int32Array | null = null;
  let wValue: Float32Array | null = null;
  if (nTargets > 1) {
    leafStart = new Int32Array(size + 1);
    wTarget = new Int32Array(nw);
    wValue = new Float32Array(nw);
    let w = 0;
    for (let k = 0; k < size; k++) {
      leafStart[k] = w;
      for (const x of perLeaf.get(order[k]) ?? []) {
        wTarget[w] = x.target;
        wValue[w] = x.weight;
        w++;
      }
    }
    leafStart[size] = w;
  }

  const baseValues = get(a, 'base_values', 'floats', false);
  let base: Float32Array | null = null;
  if (baseValues && baseValues.length > 0) {
    if (baseValues.length !== nTargets) throw new Unsupported('base_values of another length than n_targets');
    base = Float32Array.from(baseValues);
  }
  return {
    nTargets,
    roots,
    link,
    featureMask: (1 << fBits) - 1,
    missingBit: 1 << fBits,
    offsetShift,
    value: fValue,
    mode: fMode,
    leafStart,
    wTarget,
    wValue,
    base,
    maxFeature,
  };
}

/** Typed-array bytes the plan holds. */
export function treeBytes(p: TreePlan): number {
  let b = p.roots.byteLength + p.link.byteLength + p.value.byteLength + (p.mode?.byteLength ?? 0);
  b += (p.leafStart?.byteLength ?? 0) + (p.wTarget?.byteLength ?? 0) + (p.wValue?.byteLength ?? 0);
  return b + (p.base?.byteLength ?? 0);
}

function branch(mode: number, v: number, t: number): boolean {
  switch (mode) {
    case 0:
      return v <= t;
    case 1:
      return v < t;
    case 2:
      return v >= t;
    case 3:
      return v > t;
    case 4:
      return v === t;
    default:
      return v !== t;
  }
}

/** The leaf row `o` of `x` reaches from `root`, for any modes (and missing-value tracks). */
function leafOf(p: TreePlan, x: Float32Array, o: number, root: number): number {
  const { link, value, mode, featureMask, missingBit, offsetShift } = p;
  let n = root;
  for (let w = link[n]; w >= 0; w = link[n]) {
    const v = x[o + (w & featureMask)];
    const yes =
      (mode === null ? v < value[n] : branch(mode[n], v, value[n])) ||
      ((w & missingBit) !== 0 && Number.isNaN(v));
    n = yes ? n + (w >>> offsetShift) : n + 1;
  }
  return n;
}

/** Raw scores [rows, nTargets] for `rows` rows of `cols` features. */
export function runTrees(p: TreePlan, x: Float32Array, rows: number, cols: number): Float32Array {
  const K = p.nTargets;
  const out = new Float32Array(rows * K);
  const { roots, link, value, featureMask, missingBit, offsetShift } = p;
  const nTrees = roots.length;
  if (K === 1) {
    // Tree by tree over all rows (one tree's nodes stay in cache); each row still sums the trees in
    // order, in float32: storing into the Float32Array rounds every partial sum. NaN fails `v < t` and
    // then takes the true branch only where the node's missing bit says so.
    if (p.mode === null) {
      for (let t = 0; t < nTrees; t++) {
        const root = roots[t];
        for (let r = 0, o = 0; r < rows; r++, o += cols) {
          let n = root;
          for (let w = link[n]; w >= 0; w = link[n]) {
            const v = x[o + (w & featureMask)];
            n = v < value[n] || ((w & missingBit) !== 0 && Number.isNaN(v)) ? n + (w >>> offsetShift) : n + 1;
          }
          out[r] += value[n];
        }
      }
    } else {
      for (let t = 0; t < nTrees; t++)
        for (let r = 0; r < rows; r++) out[r] += value[leafOf(p, x, r * cols, roots[t])];
    }
    if (p.base) {
      const b = p.base[0];
      for (let r = 0; r < rows; r++) out[r] += b;
    }
    return out;
  }
  const start = p.leafStart as Int32Array;
  const wt = p.wTarget as Int32Array;
  const wv = p.wValue as Float32Array;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const ro = r * K;
    for (let t = 0; t < nTrees; t++) {
      const leaf = leafOf(p, x, o, roots[t]);
      for (let j = start[leaf], e = start[leaf + 1]; j < e; j++) out[ro + wt[j]] += wv[j];
    }
    if (p.base) for (let k = 0; k < K; k++) out[ro + k] += p.base[k];
  }
  return out;
}
