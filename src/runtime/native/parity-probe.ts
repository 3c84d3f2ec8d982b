// The native engine's parity probe. Its Sigmoid, Softmax (exp) and MatMul reproduce ONNX Runtime's MLAS
// kernels as measured on x86-64 with FMA3; on another CPU (arm64, x86 without AVX2/FMA) ONNX Runtime
// dispatches to other kernels and the last bits may differ. So, once per process, before the first native
// model that uses one of these operators serves, small built-in graphs run in both engines on fixed inputs
// (extreme values included) and their bits are compared: an operator that differs sends the graphs using it
// to ONNX Runtime. Trees, Add/Sub, Identity, Concat and ArgMax are exact float32 operations everywhere and
// are not probed. The probe's sessions have one intra-op and one inter-op thread (no OS thread is added) and
// are released at once; it takes a few milliseconds (`durationMs`). The process's probe (`processParity`)
// runs in a short-lived child process (parity-child.ts), so that a serving process whose models all run
// natively never loads ONNX Runtime's library (~15–22 MB of resident memory).
import { fork } from 'node:child_process';
import { siblingModule } from '../../core/module-url.ts';
import { attrInt, encodeModel, floatTensor, type GraphParts, node, valueInfo } from '../../ml/onnx/graph.ts';
import { childLoaderArgs } from '../entry.ts';
import { onnxRuntime } from '../ort.ts';
import { compileOnnx } from './plan.ts';

/**
 * Above 16 classes MLAS splits the softmax's sum in an order the native engine does not reproduce: on
 * x86-64 FMA3 a probability then differs from ONNX Runtime's by up to 5 units in the last place (2,000
 * random rows of 17–100 classes; relative < 1e-6). The probe allows 8 there and exact bits elsewhere.
 */
export const SOFTMAX_WIDE_ULPS = 8;

/** The operators whose float results depend on the CPU's ONNX Runtime kernels. */
export const PROBED_OPS = ['Sigmoid', 'Softmax', 'MatMul'] as const;
export type ProbedOp = (typeof PROBED_OPS)[number];

export interface ParityReport {
  /** Probed operators whose native results differ from ONNX Runtime's on this CPU. */
  readonly differs: ReadonlySet<string>;
  readonly durationMs: number;
}

/** Runs a probe (the real one, or a test's stand-in). */
export type ParityProbe = () => Promise<ParityReport>;

/** One graph of the probe: the operator it checks, the ONNX bytes, its input and how bits are compared. */
interface Case {
  op: ProbedOp;
  onnx: Uint8Array;
  input: Float32Array;
  rows: number;
  cols: number;
  /** Units in the last place allowed (Softmax above 16 classes: SOFTMAX_WIDE_ULPS). */
  ulps: number;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Values where the approximations change regime: clamps, tiny and huge magnitudes, signed zeros. */
const EXTREMES = [
  0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 2.5, -2.5, 9.75, -9.75, 17.99, -17.99, 18, -18, 18.01,
  -18.01, 30, -30, 87.5, -87.5, 88.4, -88.4, 89, -89, 100, -100, 1e6, -1e6, 3.4e38, -3.4e38,
].map(Math.fround);

/** Softmax rows of `c` logits whose probabilities fall into float32's subnormal range (see `cases`). */
function subnormalRows(c: number): Float32Array {
  const rows: number[] = [];
  for (const gap of [87, 87.5, 88.4, 89, 95, 100, 103.9, 104, 120]) {
    for (const sign of [1, -1]) {
      const r = Array.from({ length: c }, (_, j) => (j % 3) * 0.25);
      r[c - 1] = sign * gap;
      rows.push(...r);
    }
  }
  return Float32Array.from(rows);
}

/** `rows` × `cols` inputs: the extreme values first, then a fixed pseudo-random spread over ±40. */
function inputs(rows: number, cols: number, seed: number, scale = 40): Float32Array {
  const r = lcg(seed);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++)
    x[i] = i < EXTREMES.length ? EXTREMES[i] : Math.fround((r() * 2 - 1) * scale);
  return x;
}

function model(name: string, cols: number, outCols: number, parts: Omit<GraphParts, 'outputs'>): Uint8Array {
  return encodeModel(name, cols, { ...parts, outputs: [valueInfo('out', 'float', [outCols])] });
}

/** The probe's graphs, built once per call (a few KB). */
function cases(): Case[] {
  const out: Case[] = [];
  out.push({
    op: 'Sigmoid',
    onnx: model('probe-sigmoid', 8, 8, { nodes: [node('Sigmoid', ['input'], ['out'])], initializers: [] }),
    input: inputs(16, 8, 1),
    rows: 16,
    cols: 8,
    ulps: 0,
  });
  // Class counts on both sides of MLAS's vector widths, and above 16 (its sum split in blocks there). After
  // the spread rows, rows with one logit `gap` above or below small others: probabilities in float32's
  // subnormal range (gaps 87.3–103.9), where some CPUs' kernels flush to zero and others do not.
  for (const c of [2, 3, 8, 16, 17, 33]) {
    const spread = Math.max(8, Math.ceil(EXTREMES.length / c) + 4);
    const wide = subnormalRows(c);
    const rows = spread + wide.length / c;
    const x = new Float32Array(rows * c);
    x.set(inputs(spread, c, 100 + c, 20));
    x.set(wide, spread * c);
    out.push({
      op: 'Softmax',
      onnx: model(`probe-softmax-${c}`, c, c, {
        nodes: [node('Softmax', ['input'], ['out'], [attrInt('axis', 1)])],
        initializers: [],
      }),
      input: x,
      rows,
      cols: c,
      ulps: c > 16 ? SOFTMAX_WIDE_ULPS : 0,
    });
  }
  // A linear model's head: MatMul by a [K, 3] initializer plus a bias, K small and K at the block limit.
  for (const k of [5, 256]) {
    const r = lcg(7 + k);
    const w = Array.from({ length: k * 3 }, () => Math.fround((r() * 2 - 1) * (r() < 0.1 ? 1e3 : 1)));
    out.push({
      op: 'MatMul',
      onnx: model(`probe-matmul-${k}`, k, 3, {
        nodes: [node('MatMul', ['input', 'W'], ['xw']), node('Add', ['xw', 'B'], ['out'])],
        initializers: [floatTensor('W', [k, 3], w), floatTensor('B', [3], [0.25, -1.5, 1e-3])],
      }),
      input: inputs(6, k, 11 + k, 3),
      rows: 6,
      cols: k,
      ulps: 0,
    });
  }
  return out;
}

const bitsA = new DataView(new ArrayBuffer(4));

/** Distance in units in the last place between two float32 values (NaN equals NaN; +0 and −0 differ). */
function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  bitsA.setFloat32(0, a);
  const ia = bitsA.getInt32(0);
  bitsA.setFloat32(0, b);
  const ib = bitsA.getInt32(0);
  if (ia === ib) return 0;
  if (ia < 0 !== ib < 0) return Infinity;
  return Math.abs(ia - ib);
}

/** Whether the native result of `c` matches ONNX Runtime's on this CPU. */
async function matches(c: Case): Promise<boolean> {
  const ort = onnxRuntime();
  const native = compileOnnx(c.onnx, c.cols).run(c.input, c.rows).out?.data;
  const session = await ort.InferenceSession.create(c.onnx, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'basic',
  });
  try {
    const res = await session.run({ input: new ort.Tensor('float32', c.input, [c.rows, c.cols]) });
    const ref = res.out?.data;
    if (!(native instanceof Float32Array) || !(ref instanceof Float32Array) || native.length !== ref.length)
      return false;
    for (let i = 0; i < ref.length; i++) if (ulpDistance(native[i], ref[i]) > c.ulps) return false;
    return true;
  } finally {
    await session.release();
  }
}

/** Runs every probe graph in both engines; an operator differs if any of its graphs does. */
export const runParityProbe: ParityProbe = async () => {
  const start = performance.now();
  const differs = new Set<string>();
  for (const c of cases()) {
    if (differs.has(c.op)) continue;
    if (!(await matches(c))) differs.add(c.op);
  }
  return { differs, durationMs: performance.now() - start };
};

/** The longest the probe's child process may take before it counts as failed. */
const CHILD_TIMEOUT_MS = 60_000;

/** What parity-child.ts sends back. */
export interface ParityMessage {
  differs: string[];
  durationMs: number;
}

/** Runs the probe in a child process (parity-child.ts, from source or built like this module). */
export const runParityProbeInChild: ParityProbe = () => {
  const entry = siblingModule(import.meta.url, './parity-child.ts');
  return new Promise<ParityReport>((resolve, reject) => {
    const child = fork(entry, [], {
      execArgv: childLoaderArgs(entry),
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { PATH: process.env.PATH ?? '' },
    });
    let answer: ParityMessage | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.once('message', (m: ParityMessage) => {
      answer = m;
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer && Array.isArray(answer.differs))
        resolve({ differs: new Set(answer.differs), durationMs: answer.durationMs });
      else reject(new Error(`the parity probe's process ended without an answer (${signal ?? code})`));
    });
  });
};

let memo: Promise<ParityReport> | undefined;

/**
 * The process's probe result, run on first use (in a child process) and kept. A probe that fails (ONNX
 * Runtime could not open its sessions, the child could not start) counts every probed operator as
 * differing for that load and is tried again on the next.
 */
export function processParity(): Promise<ParityReport> {
  if (!memo) {
    memo = runParityProbeInChild().catch(() => {
      memo = undefined;
      return { differs: new Set<string>(PROBED_OPS), durationMs: 0 };
    });
  }
  return memo;
}
