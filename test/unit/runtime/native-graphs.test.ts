// The native engine on graphs written by hand: tree ensembles using every branch mode, missing-value
// tracks, several targets, base values, shuffled node lists and tree ids out of order, compared with ONNX
// Runtime on inputs that sit on the thresholds and on NaN; then every graph it must not run (another
// operator, attribute value, type, shape, opset or malformed trees) is refused with a reason, and such a
// model is still served — by ONNX Runtime.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrStrings,
  encodeModel,
  floatTensor,
  type GraphParts,
  type Node,
  node,
  onnx,
  type ValueInfo,
  valueInfo,
} from '../../../src/ml/onnx/graph.ts';
import { exportOnnx } from '../../../src/ml/onnx/index.ts';
import { loadModel, SESSION_OPTIONS } from '../../../src/runtime/loaded-model.ts';
import { Unsupported } from '../../../src/runtime/native/decode.ts';
import { compileOnnx } from '../../../src/runtime/native/plan.ts';

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const MODES = ['BRANCH_LEQ', 'BRANCH_LT', 'BRANCH_GTE', 'BRANCH_GT', 'BRANCH_EQ', 'BRANCH_NEQ'];
const LEVELS = [-1, -0.5, 0, 0.25, 1.5].map(Math.fround);

/** Random trees over F features: every mode, thresholds on LEVELS, random missing tracks and weights. */
function randomEnsemble(opts: {
  trees: number;
  F: number;
  targets: number;
  seed: number;
  modes?: string[];
  /** First node id of each tree (ONNX Runtime wants ids below the total node count). */
  idBase?: number;
}) {
  const r = lcg(opts.seed);
  const modes = opts.modes ?? MODES;
  const a = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    features: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missing: [] as number[],
    tTree: [] as number[],
    tNode: [] as number[],
    tIds: [] as number[],
    tWeights: [] as number[],
  };
  for (let t = 0; t < opts.trees; t++) {
    const treeId = (opts.trees - t) * 3; // ids out of order: evaluation follows the listing
    // Build a tree with node ids base + i, listed root first and the rest shuffled.
    const base = opts.idBase ?? 100;
    type N = { id: number; leaf: boolean; left?: number; right?: number; depth: number };
    const nodes: N[] = [{ id: base, leaf: false, depth: 0 }];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (n.depth >= 3 || (n.depth > 0 && r() < 0.3)) {
        n.leaf = true;
        continue;
      }
      n.left = base + nodes.length;
      nodes.push({ id: n.left, leaf: false, depth: n.depth + 1 });
      n.right = base + nodes.length;
      nodes.push({ id: n.right, leaf: false, depth: n.depth + 1 });
    }
    const rest = nodes.slice(1);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    for (const n of [nodes[0], ...rest]) {
      a.treeIds.push(treeId);
      a.nodeIds.push(n.id);
      if (n.leaf) {
        a.features.push(0);
        a.modes.push('LEAF');
        a.values.push(0);
        a.trueIds.push(0);
        a.falseIds.push(0);
        a.missing.push(0);
        const targets = [...Array(opts.targets).keys()].filter(() => opts.targets === 1 || r() < 0.6);
        if (opts.targets === 1 && targets.length === 0) targets.push(0);
        for (const k of targets) {
          a.tTree.push(treeId);
          a.tNode.push(n.id);
          a.tIds.push(k);
          a.tWeights.push((r() * 2 - 1) * 0.37);
        }
      } else {
        a.features.push(Math.floor(r() * opts.F));
        a.modes.push(modes[Math.floor(r() * modes.length)]);
        a.values.push(LEVELS[Math.floor(r() * LEVELS.length)]);
        a.trueIds.push(n.left as number);
        a.falseIds.push(n.right as number);
        a.missing.push(r() < 0.5 ? 1 : 0);
      }
    }
  }
  return a;
}

function treeNode(
  e: ReturnType<typeof randomEnsemble>,
  targets: number,
  extra: Node['attribute'] = [],
): Node {
  return node(
    'TreeEnsembleRegressor',
    ['input'],
    ['value'],
    [
      attrInt('n_targets', targets),
      attrString('aggregate_function', 'SUM'),
      attrString('post_transform', 'NONE'),
      attrFloats(
        'base_values',
        Array.from({ length: targets }, (_, k) => 0.5 - k * 0.3),
      ),
      attrInts('nodes_treeids', e.treeIds),
      attrInts('nodes_nodeids', e.nodeIds),
      attrInts('nodes_featureids', e.features),
      attrStrings('nodes_modes', e.modes),
      attrFloats('nodes_values', e.values),
      attrInts('nodes_truenodeids', e.trueIds),
      attrInts('nodes_falsenodeids', e.falseIds),
      attrInts('nodes_missing_value_tracks_true', e.missing),
      attrInts('target_treeids', e.tTree),
      attrInts('target_nodeids', e.tNode),
      attrInts('target_ids', e.tIds),
      attrFloats('target_weights', e.tWeights),
      ...(extra ?? []),
    ],
    'ai.onnx.ml',
  );
}

function treeModel(F: number, e: ReturnType<typeof randomEnsemble>, targets: number): Uint8Array {
  const parts: GraphParts = { nodes: [treeNode(e, targets)], initializers: [], outputs: [] };
  parts.outputs.push(valueInfo('value', 'float', [targets]));
  return encodeModel('hand', F, parts);
}

async function ortValues(bytes: Uint8Array, x: Float32Array, rows: number, F: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS });
  try {
    const res = await s.run({ input: new ort.Tensor('float32', x, [rows, F]) });
    return res.value.data as Float32Array;
  } finally {
    await s.release();
  }
}

function inputsOnLevels(rows: number, F: number, seed: number): Float32Array {
  const r = lcg(seed);
  const x = new Float32Array(rows * F);
  for (let i = 0; i < x.length; i++) {
    const u = r();
    x[i] = u < 0.15 ? Number.NaN : u < 0.6 ? LEVELS[Math.floor(r() * LEVELS.length)] : (r() * 2 - 1) * 2;
  }
  return x;
}

describe('hand-written tree ensembles: native ≡ ORT bit for bit', () => {
  const cases = [
    { name: 'every mode, 3 targets, sparse leaf weights', targets: 3, modes: MODES },
    { name: 'every mode, 1 target', targets: 1, modes: MODES },
    {
      name: 'BRANCH_LT only (the fast loop) with missing tracks, 1 target',
      targets: 1,
      modes: ['BRANCH_LT'],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const F = 4;
      const e = randomEnsemble({
        trees: 30,
        F,
        targets: c.targets,
        seed: c.targets * 11 + c.modes.length,
        modes: c.modes,
      });
      const bytes = treeModel(F, e, c.targets);
      const rows = 2000;
      const x = inputsOnLevels(rows, F, 5);
      const ref = await ortValues(bytes, x, rows, F);
      const out = compileOnnx(bytes, F).run(x, rows);
      assert.deepEqual([...out.value.dims], [rows, c.targets]);
      const mine = out.value.data as Float32Array;
      let differ = 0;
      for (let i = 0; i < ref.length; i++) if (!Object.is(ref[i], mine[i])) differ++;
      assert.equal(differ, 0, `${differ} of ${ref.length} values differ`);
      assert.ok(new Set(ref).size > 20, 'the trees give many different values');
    });
  }
});

/**
 * One tree of `chain` branches, each with a leaf as its true child and the next branch as its false child
 * (the last one's false child a leaf): the root's true child lies 2 × chain nodes after it in the native
 * layout. Branch i reads feature `feature(i)` against a threshold rising from -1.9 (rows leave the chain
 * one by one), NaN going the
 * true way on odd i.
 */
function chainTree(chain: number, feature: (i: number) => number): Node {
  const ids: number[] = [];
  const feats: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trues: number[] = [];
  const falses: number[] = [];
  const missing: number[] = [];
  const leaves: number[] = [];
  const leaf = (id: number) => {
    ids.push(id);
    feats.push(0);
    modes.push('LEAF');
    values.push(0);
    trues.push(0);
    falses.push(0);
    missing.push(0);
    leaves.push(id);
  };
  for (let i = 0; i < chain; i++) {
    ids.push(2 * i);
    feats.push(feature(i));
    modes.push('BRANCH_LT');
    values.push(Math.fround(-1.9 + i * 0.05));
    trues.push(2 * i + 1);
    falses.push(2 * i + 2);
    missing.push(i % 2);
    leaf(2 * i + 1);
  }
  leaf(2 * chain);
  const n = ids.length;
  return node(
    'TreeEnsembleRegressor',
    ['input'],
    ['value'],
    [
      attrInt('n_targets', 1),
      attrInts('nodes_treeids', Array(n).fill(0)),
      attrInts('nodes_nodeids', ids),
      attrInts('nodes_featureids', feats),
      attrStrings('nodes_modes', modes),
      attrFloats('nodes_values', values),
      attrInts('nodes_truenodeids', trues),
      attrInts('nodes_falsenodeids', falses),
      attrInts('nodes_missing_value_tracks_true', missing),
      attrInts('target_treeids', Array(leaves.length).fill(0)),
      attrInts('target_nodeids', leaves),
      attrInts('target_ids', Array(leaves.length).fill(0)),
      attrFloats(
        'target_weights',
        leaves.map((_, k) => Math.fround(k * 0.125 - 3)),
      ),
    ],
    'ai.onnx.ml',
  );
}

describe('the native layout: feature, missing track and child distance in one word per node', () => {
  test('a true child 140 nodes away (beyond 7 bits) with missing tracks: native ≡ ORT bit for bit', async () => {
    const F = 4;
    const bytes = model(treeOut(chainTree(70, (i) => i % F)));
    const rows = 3000;
    const x = inputsOnLevels(rows, F, 9);
    const ref = await ortValues(bytes, x, rows, F);
    const mine = compileOnnx(bytes, F).run(x, rows).value.data as Float32Array;
    let differ = 0;
    for (let i = 0; i < ref.length; i++) if (!Object.is(ref[i], mine[i])) differ++;
    assert.equal(differ, 0, `${differ} of ${ref.length} values differ`);
    assert.ok(new Set(ref).size > 10, 'rows reach many leaves');
  });

  test('a child farther than the word holds beside a 23-bit feature index goes to ONNX Runtime', () => {
    // 23 bits of feature and one missing bit leave 7 bits of distance: 127 nodes, and 140 are needed.
    const F = 2 ** 23;
    const bytes = model(treeOut(chainTree(70, (i) => (i === 0 ? F - 1 : 0))), { F });
    assert.throws(
      () => compileOnnx(bytes, F),
      (e: unknown) => e instanceof Unsupported && /a tree too large for the native layout/.test(e.reason),
    );
    // 60 branches: the root's true child 120 nodes away fits.
    const fits = model(treeOut(chainTree(60, (i) => (i === 0 ? F - 1 : 0))), { F });
    assert.doesNotThrow(() => compileOnnx(fits, F));
  });

  test('a feature index beyond 24 bits goes to ONNX Runtime', () => {
    const F = 2 ** 24 + 1;
    const bytes = model(treeOut(chainTree(3, (i) => (i === 0 ? F - 1 : 0))), { F });
    assert.throws(
      () => compileOnnx(bytes, F),
      (e: unknown) => e instanceof Unsupported && /a feature index too large/.test(e.reason),
    );
  });
});

/** Encodes a one-input graph with explicit opsets (the builders always write opset 17 / ml 3). */
function model(
  parts: GraphParts,
  opts: { F?: number; opsets?: [string, number][]; inputs?: ValueInfo[] } = {},
): Uint8Array {
  const F = opts.F ?? 4;
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: (
        opts.opsets ?? [
          ['', 17],
          ['ai.onnx.ml', 3],
        ]
      ).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: 'g',
        node: parts.nodes,
        initializer: parts.initializers,
        input: opts.inputs ?? [valueInfo('input', 'float', [F])],
        output: parts.outputs,
      },
    }),
  ).finish();
}

/** ArgMax's int64 output 'label' of shape [N]. */
const labelOut: ValueInfo = {
  name: 'label',
  type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'N' }] } } },
};

const small = randomEnsemble({ trees: 3, F: 4, targets: 1, seed: 3, modes: ['BRANCH_LT'], idBase: 0 });
const withAttr = (name: string, replace: (a: NonNullable<Node['attribute']>[number]) => void): Node => {
  const n = treeNode(small, 1);
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) throw new Error(name);
  replace(a);
  return n;
};
const treeOut = (n: Node): GraphParts => ({
  nodes: [n],
  initializers: [],
  outputs: [valueInfo('value', 'float', [1])],
});

describe('graphs the native engine refuses (and ONNX Runtime serves)', () => {
  const refused: {
    name: string;
    bytes: () => Uint8Array;
    reason: RegExp;
    ortLoads: boolean;
    features?: number;
  }[] = [
    {
      name: 'another operator (Relu)',
      bytes: () =>
        model({
          nodes: [node('Relu', ['input'], ['value'])],
          initializers: [],
          outputs: [valueInfo('value', 'float', [4])],
        }),
      reason: /operator Relu/,
      ortLoads: true,
    },
    {
      name: 'TreeEnsembleClassifier',
      bytes: () => {
        const n = treeNode(small, 1);
        n.opType = 'TreeEnsembleClassifier';
        return model(treeOut(n));
      },
      reason: /operator ml\.TreeEnsembleClassifier/,
      ortLoads: false,
    },
    {
      name: 'aggregate_function AVERAGE',
      bytes: () =>
        model(treeOut(withAttr('aggregate_function', (a) => (a.s = new TextEncoder().encode('AVERAGE'))))),
      reason: /aggregate_function AVERAGE/,
      ortLoads: true,
    },
    {
      name: 'post_transform LOGISTIC',
      bytes: () =>
        model(treeOut(withAttr('post_transform', (a) => (a.s = new TextEncoder().encode('LOGISTIC'))))),
      reason: /post_transform LOGISTIC/,
      ortLoads: true,
    },
    {
      name: 'an unknown tree attribute (double thresholds as a tensor)',
      bytes: () => {
        const n = treeNode(small, 1, [
          {
            name: 'nodes_values_as_tensor',
            type: onnx.AttributeProto.AttributeType.TENSOR,
            t: floatTensor('v', [1], [0]),
          },
        ]);
        return model(treeOut(n));
      },
      reason: /nodes_values_as_tensor/,
      ortLoads: false,
    },
    {
      name: 'a node mode BRANCH_MEMBER',
      bytes: () =>
        model(
          treeOut(
            withAttr(
              'nodes_modes',
              (a) =>
                (a.strings = (a.strings ?? []).map((s) =>
                  new TextDecoder().decode(s) === 'BRANCH_LT' ? new TextEncoder().encode('BRANCH_MEMBER') : s,
                )),
            ),
          ),
        ),
      reason: /node mode BRANCH_MEMBER/,
      ortLoads: true,
    },
    {
      name: 'node ids beyond the node count',
      bytes: () =>
        model(
          treeOut(
            treeNode(
              randomEnsemble({ trees: 2, F: 4, targets: 1, seed: 4, modes: ['BRANCH_LT'], idBase: 100 }),
              1,
            ),
          ),
        ),
      reason: /node id out of range/,
      ortLoads: false,
    },
    {
      name: 'a missing-value track of 2',
      bytes: () =>
        model(
          treeOut(withAttr('nodes_missing_value_tracks_true', (a) => (a.ints = (a.ints ?? []).map(() => 2)))),
        ),
      reason: /missing-value track other than 0 or 1/,
      ortLoads: true,
    },
    {
      name: 'the nodes of a tree not listed together',
      bytes: () => {
        const e = randomEnsemble({ trees: 2, F: 4, targets: 1, seed: 9, modes: ['BRANCH_LT'], idBase: 0 });
        // Move the first tree's last node to the end of the list.
        const first = e.treeIds[0];
        const at = e.treeIds.lastIndexOf(first);
        for (const k of [
          'treeIds',
          'nodeIds',
          'features',
          'modes',
          'values',
          'trueIds',
          'falseIds',
          'missing',
        ] as const) {
          const arr = e[k] as unknown[];
          arr.push(arr.splice(at, 1)[0]);
        }
        return model(treeOut(treeNode(e, 1)));
      },
      reason: /not contiguous/,
      ortLoads: true,
    },
    {
      name: 'a branch to a node outside its tree',
      bytes: () =>
        model(
          treeOut(
            withAttr(
              'nodes_truenodeids',
              (a) => (a.ints = (a.ints ?? []).map((v) => (Number(v) === 0 ? 0 : 9999))),
            ),
          ),
        ),
      reason: /outside its tree/,
      ortLoads: false,
    },
    {
      name: 'a tree with a cycle',
      bytes: () =>
        model(
          treeOut(
            withAttr(
              'nodes_falsenodeids',
              (a) => (a.ints = (a.ints ?? []).map((v) => (Number(v) === 0 ? 0 : 0))),
            ),
          ),
        ),
      reason: /reached twice/,
      ortLoads: false,
    },
    {
      name: 'a feature id beyond the input',
      bytes: () =>
        model(treeOut(withAttr('nodes_featureids', (a) => (a.ints = (a.ints ?? []).map(() => 7))))),
      reason: /feature beyond the input/,
      ortLoads: true,
    },
    {
      name: 'a linear model over more than 256 features',
      bytes: () =>
        exportOnnx({
          kind: 'linear',
          task: 'regression',
          nFeatures: 300,
          nOutputs: 1,
          weights: new Float64Array(300).fill(0.5),
          intercepts: Float64Array.from([1]),
        }),
      reason: /MatMul over more than 256 features/,
      ortLoads: true,
      features: 300,
    },
    {
      name: 'Softmax on axis 0',
      bytes: () =>
        model({
          nodes: [node('Softmax', ['input'], ['p'], [attrInt('axis', 0)])],
          initializers: [],
          outputs: [valueInfo('p', 'float', [4])],
        }),
      reason: /Softmax on axis 0/,
      ortLoads: true,
    },
    {
      name: 'ArgMax with select_last_index 1',
      bytes: () =>
        model({
          nodes: [
            node(
              'ArgMax',
              ['input'],
              ['label'],
              [attrInt('axis', 1), attrInt('keepdims', 0), attrInt('select_last_index', 1)],
            ),
          ],
          initializers: [],
          outputs: [labelOut],
        }),
      reason: /select_last_index/,
      ortLoads: true,
    },
    {
      name: 'a double initializer',
      bytes: () =>
        model({
          nodes: [node('Add', ['input', 'B'], ['value'])],
          initializers: [
            { name: 'B', dims: [1], dataType: onnx.TensorProto.DataType.DOUBLE, doubleData: [1] },
          ],
          outputs: [valueInfo('value', 'float', [4])],
        }),
      reason: /not float32/,
      ortLoads: false,
    },
    {
      name: 'two graph inputs',
      bytes: () =>
        model(
          {
            nodes: [node('Add', ['input', 'other'], ['value'])],
            initializers: [],
            outputs: [valueInfo('value', 'float', [4])],
          },
          { inputs: [valueInfo('input', 'float', [4]), valueInfo('other', 'float', [4])] },
        ),
      reason: /2 graph inputs/,
      ortLoads: true,
    },
    {
      name: 'an input declared with another feature count',
      bytes: () => model(treeOut(treeNode(small, 1)), { inputs: [valueInfo('input', 'float', [9])] }),
      reason: /another feature count/,
      ortLoads: true,
    },
    {
      name: 'an operator domain it does not know',
      bytes: () =>
        model(treeOut(treeNode(small, 1)), {
          opsets: [
            ['', 17],
            ['ai.onnx.ml', 3],
            ['com.microsoft', 1],
          ],
        }),
      reason: /operator domain com\.microsoft/,
      ortLoads: true,
    },
    {
      name: 'an ai.onnx.ml opset it does not know',
      bytes: () =>
        model(treeOut(treeNode(small, 1)), {
          opsets: [
            ['', 17],
            ['ai.onnx.ml', 5],
          ],
        }),
      reason: /opset ai\.onnx\.ml 5/,
      ortLoads: false,
    },
    {
      name: 'an output declared int64 that is float',
      bytes: () =>
        model({
          nodes: [node('Identity', ['input'], ['value'])],
          initializers: [],
          outputs: [{ name: 'value', type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64 } } }],
        }),
      reason: /declared int64/,
      ortLoads: false,
    },
    {
      name: 'an attribute given twice (ORT refuses the node; a map would keep the last)',
      bytes: () =>
        model({
          nodes: [
            node(
              'ArgMax',
              ['input'],
              ['label'],
              [attrInt('axis', 1), attrInt('keepdims', 1), attrInt('keepdims', 0)],
            ),
          ],
          initializers: [],
          outputs: [labelOut],
        }),
      reason: /ArgMax attribute keepdims given twice/,
      ortLoads: false,
    },
    {
      name: 'a node of a domain the model imports no opset of',
      bytes: () => model(treeOut(treeNode(small, 1)), { opsets: [['', 17]] }),
      reason: /TreeEnsembleRegressor of a domain without an opset import/,
      ortLoads: false,
    },
    {
      name: 'a default-domain node without a default opset import (ORT takes its latest opset)',
      bytes: () =>
        model(
          {
            nodes: [node('Sigmoid', ['input'], ['p'])],
            initializers: [],
            outputs: [valueInfo('p', 'float', [4])],
          },
          { opsets: [['ai.onnx.ml', 3]] },
        ),
      reason: /Sigmoid of a domain without an opset import/,
      ortLoads: true,
    },
    {
      name: 'an IR version newer than ORT reads',
      bytes: () => {
        const m = onnx.ModelProto.decode(model(treeOut(treeNode(small, 1))));
        m.irVersion = 99;
        return onnx.ModelProto.encode(m).finish();
      },
      reason: /IR version 99/,
      ortLoads: false,
    },
    {
      name: 'an initializer with empty raw_data beside float_data (ORT reads raw_data)',
      bytes: () =>
        model({
          nodes: [node('Add', ['input', 'B'], ['value'])],
          initializers: [
            {
              name: 'B',
              dims: [1],
              dataType: onnx.TensorProto.DataType.FLOAT,
              floatData: [2],
              rawData: new Uint8Array(0),
            },
          ],
          outputs: [valueInfo('value', 'float', [4])],
        }),
      reason: /initializer 'B' has a wrong size/,
      ortLoads: false,
    },
    {
      name: 'a graph given in two parts (protobuf merges them: ORT runs both parts)',
      bytes: () => {
        // A ModelProto holding only a graph with a Relu and its output, then the whole model.
        const first = onnx.ModelProto.encode({
          graph: { node: [node('Relu', ['input'], ['r'])], output: [valueInfo('r', 'float', [4])] },
        }).finish();
        const whole = model({
          nodes: [node('Sigmoid', ['input'], ['value'])],
          initializers: [],
          outputs: [valueInfo('value', 'float', [4])],
        });
        return Uint8Array.from([...first, ...whole]);
      },
      reason: /a graph given in parts/,
      ortLoads: true,
    },
    {
      name: 'an input shape given in two parts (protobuf merges them: ORT reads [N, N, 4])',
      bytes: () => {
        const field = (n: number, body: Uint8Array) => {
          const len: number[] = [];
          for (let v = body.length; ; v >>>= 7) {
            if (v < 0x80) {
              len.push(v);
              break;
            }
            len.push((v & 0x7f) | 0x80);
          }
          return Uint8Array.from([(n << 3) | 2, ...len, ...body]);
        };
        const dims = valueInfo('input', 'float', [4]).type?.tensorType?.shape?.dim ?? [];
        const T = onnx.TypeProto.Tensor;
        // TypeProto.Tensor with its shape field twice: [N], then [N, 4].
        const tensor = Uint8Array.from([
          ...T.encode({ elemType: 1, shape: { dim: [dims[0]] } }).finish(),
          ...T.encode({ shape: { dim: dims } }).finish(),
        ]);
        const input = field(
          11,
          Uint8Array.from([...field(1, new TextEncoder().encode('input')), ...field(2, field(1, tensor))]),
        );
        const m = onnx.ModelProto.decode(model(treeOut(treeNode(small, 1))));
        const graph = m.graph as InstanceType<typeof onnx.GraphProto>;
        graph.input = [];
        m.graph = null;
        const graphBytes = Uint8Array.from([...onnx.GraphProto.encode(graph).finish(), ...input]);
        return Uint8Array.from([...onnx.ModelProto.encode(m).finish(), ...field(7, graphBytes)]);
      },
      reason: /shape in parts/,
      ortLoads: false,
    },
    {
      name: 'bytes that are not ONNX',
      bytes: () => new TextEncoder().encode('definitely not a protobuf \u00ff\u00fe'),
      reason: /not an ONNX model|graph/,
      ortLoads: false,
    },
  ];
  for (const c of refused) {
    test(c.name, async () => {
      const bytes = c.bytes();
      const F = c.features ?? 4;
      assert.throws(
        () => compileOnnx(bytes, F),
        (e: unknown) => e instanceof Unsupported && c.reason.test(e.reason),
      );
      const inputSchema = Array.from({ length: F }, (_, i) => ({ name: `f${i}`, type: 'numeric' }));
      const spec = { task: 'regression', inputSchema, featurizer: null, imported: null };
      const opts = { batchWindowMs: 0, featurizerBytes: 0 };
      if (!c.ortLoads) {
        // Not a graph ORT runs either: the load fails as it did before the native engine.
        await assert.rejects(loadModel('k', bytes, spec, opts));
        return;
      }
      const m = await loadModel('k', bytes, spec, opts);
      try {
        assert.equal(m.engine, 'onnxruntime');
        assert.match(m.fallbackReason ?? '', c.reason);
        assert.equal(m.fallbackKind, 'unsupported_op');
      } finally {
        await m.dispose();
      }
    });
  }
});

test('a graph with an operator it does not run is refused before any initializer is read', () => {
  // An imported model bound for ONNX Runtime: its weights are neither copied nor checked natively (the
  // double initializer, read first, would be refused as 'not float32').
  const bytes = model({
    nodes: [node('Add', ['input', 'B'], ['h']), node('Relu', ['h'], ['value'])],
    initializers: [
      { name: 'B', dims: [4], dataType: onnx.TensorProto.DataType.DOUBLE, doubleData: [1, 2, 3, 4] },
    ],
    outputs: [valueInfo('value', 'float', [4])],
  });
  assert.throws(
    () => compileOnnx(bytes, 4),
    (e: unknown) => e instanceof Unsupported && e.reason === 'operator Relu',
  );
});

const cols4 = ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'numeric' }));

test('a graph the native engine refuses still predicts, through ONNX Runtime', async () => {
  // Relu then the trees: ORT answers, the native engine is not involved.
  const parts: GraphParts = {
    nodes: [node('Relu', ['input'], ['pos']), { ...treeNode(small, 1), input: ['pos'] }],
    initializers: [],
    outputs: [valueInfo('value', 'float', [1])],
  };
  const bytes = model(parts);
  const m = await loadModel(
    'k',
    bytes,
    { task: 'regression', inputSchema: cols4, featurizer: null, imported: null },
    { batchWindowMs: 0, featurizerBytes: 0 },
  );
  assert.equal(m.engine, 'onnxruntime');
  const x = inputsOnLevels(50, 4, 2).map((v) => (Number.isNaN(v) ? 0 : v));
  const { outputs } = await m.batcher.submit(x, 50);
  assert.deepEqual(
    Array.from(outputs.value.data as Float32Array),
    Array.from(await ortValues(bytes, x, 50, 4)),
  );
  await m.dispose();
});

test('engine onnxruntime: even a supported graph runs in ONNX Runtime', async () => {
  const bytes = treeModel(4, small, 1);
  const spec = { task: 'regression', inputSchema: cols4, featurizer: null, imported: null };
  const auto = await loadModel('k', bytes, spec, { batchWindowMs: 0, featurizerBytes: 0 });
  const forced = await loadModel('k', bytes, spec, {
    batchWindowMs: 0,
    featurizerBytes: 0,
    engine: 'onnxruntime',
  });
  assert.equal(auto.engine, 'native');
  assert.equal(forced.engine, 'onnxruntime');
  assert.equal(auto.fallbackKind, undefined);
  assert.equal(forced.fallbackKind, 'forced');
  assert.equal(forced.fallbackReason, 'the configured engine is onnxruntime');
  // The native footprint is its typed arrays plus a fixed part: far below the session estimate.
  assert.ok(auto.bytes < forced.bytes, `${auto.bytes} < ${forced.bytes}`);
  const x = inputsOnLevels(20, 4, 4);
  const a = await auto.batcher.submit(x, 20);
  const b = await forced.batcher.submit(x, 20);
  assert.deepEqual(
    Array.from(a.outputs.value.data as Float32Array),
    Array.from(b.outputs.value.data as Float32Array),
  );
  await auto.dispose();
  await forced.dispose();
});

test('a run with the wrong input length is refused', () => {
  const plan = compileOnnx(treeModel(4, small, 1), 4);
  assert.throws(() => plan.run(new Float32Array(7), 2), /input length/);
});

test('Add and Sub broadcast a constant row, a constant value, and either side', async () => {
  const parts: GraphParts = {
    nodes: [
      node('Add', ['input', 'row'], ['a']),
      node('Sub', ['one', 'a'], ['b']),
      node('Sub', ['b', 'input'], ['c']),
      node('Concat', ['a', 'c'], ['value'], [attrInt('axis', -1)]),
    ],
    initializers: [floatTensor('row', [1, 4], [0.1, -0.2, 0.3, 1e-8]), floatTensor('one', [], [1])],
    outputs: [valueInfo('value', 'float', [8])],
  };
  const bytes = model(parts);
  const x = inputsOnLevels(30, 4, 8).map((v) => (Number.isNaN(v) ? 0.3 : v));
  const mine = compileOnnx(bytes, 4).run(x, 30).value.data as Float32Array;
  const s = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS });
  const ref = (await s.run({ input: new ort.Tensor('float32', x, [30, 4]) })).value.data as Float32Array;
  await s.release();
  assert.deepEqual(Array.from(mine), Array.from(ref));
});

describe('the heads against ORT over wide ranges', () => {
  const session = async (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS });

  test('Sigmoid: bit for bit from -30 to 30, at the ±18 clamps and on ±Infinity', async () => {
    const bytes = exportOnnx({
      kind: 'linear',
      task: 'binary',
      nFeatures: 1,
      nOutputs: 1,
      weights: Float64Array.from([1]),
      intercepts: Float64Array.from([0]),
    });
    const r = lcg(12);
    const x = Float32Array.from({ length: 50_000 }, () => (r() * 2 - 1) * 30);
    x.set([18, -18, 17.999998, -17.999998, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const s = await session(bytes);
    const ref = await s.run({ input: new ort.Tensor('float32', x, [x.length, 1]) });
    await s.release();
    const mine = compileOnnx(bytes, 1).run(x, x.length);
    assert.deepEqual(
      Array.from(mine.probabilities.data as Float32Array),
      Array.from(ref.probabilities.data as Float32Array),
    );
    assert.deepEqual(
      Array.from(mine.label.data as BigInt64Array),
      Array.from(ref.label.data as BigInt64Array),
    );
  });

  for (const K of [3, 16, 20, 45]) {
    test(`Softmax over ${K} classes: labels identical, probabilities within 1e-6 (bit for bit up to 16)`, async () => {
      const F = 5;
      const r = lcg(K);
      const bytes = exportOnnx({
        kind: 'linear',
        task: 'multiclass',
        nFeatures: F,
        nOutputs: K,
        weights: Float64Array.from({ length: K * F }, () => (r() * 2 - 1) * 3),
        intercepts: Float64Array.from({ length: K }, () => r() - 0.5),
      });
      const N = 3000;
      const x = Float32Array.from({ length: N * F }, () => (r() * 2 - 1) * 4);
      const s = await session(bytes);
      const ref = await s.run({ input: new ort.Tensor('float32', x, [N, F]) });
      await s.release();
      const mine = compileOnnx(bytes, F).run(x, N);
      assert.deepEqual(
        Array.from(mine.label.data as BigInt64Array),
        Array.from(ref.label.data as BigInt64Array),
      );
      const p = ref.probabilities.data as Float32Array;
      const q = mine.probabilities.data as Float32Array;
      let differ = 0;
      for (let i = 0; i < p.length; i++) {
        if (p[i] === q[i]) continue;
        differ++;
        assert.ok(Math.abs(p[i] - q[i]) <= 1e-6 * Math.abs(p[i]), `[${i}] ${q[i]} vs ${p[i]}`);
      }
      if (K <= 16) assert.equal(differ, 0, `${differ} probabilities differ`);
    });
  }
});
