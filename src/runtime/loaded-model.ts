// One model version ready to serve: its ONNX Runtime session (one intra-op and one inter-op thread, so
// thousands of cached models never multiply OS threads), what turns instances into its input, and its
// micro-batcher. Built from decrypted artifact bytes; nothing here reads storage.
// Two engines run a model: the native one (src/runtime/native/: tenantml's own graphs compiled into typed
// arrays, exact parity with ONNX Runtime) when it supports every operator of the graph and the process's
// parity probe found those operators exact on this CPU, ONNX Runtime otherwise (imported models usually,
// a compiler error) or when the configuration says `onnxruntime`; the model says why (fallbackKind).
import type { FeaturizerState } from '../ml/featurizer.ts';
import { MicroBatcher, type Outputs } from './batcher.ts';
import { Unsupported } from './native/decode.ts';
import { type ParityProbe, PROBED_OPS, processParity } from './native/parity-probe.ts';
import { compileOnnx, type NativePlan } from './native/plan.ts';
import { type Ort, onnxRuntime } from './ort.ts';

/** `auto`: the native engine when it runs the graph exactly, else ONNX Runtime; `onnxruntime`: always ORT. */
export type InferenceEngine = 'auto' | 'onnxruntime';
/** The engine a loaded model runs on. */
export type EngineName = 'native' | 'onnxruntime';
/**
 * Why a model runs in ONNX Runtime, as a bounded metric label: the native compiler refused the graph
 * (`unsupported_op`: an operator, attribute, type, shape or opset it does not run exactly), the parity
 * probe found one of its operators differing on this CPU (`parity`), the compiler failed unexpectedly
 * (`error`: a bug, the model still serves), or the configuration asks for ONNX Runtime (`forced`).
 */
export type FallbackKind = 'unsupported_op' | 'parity' | 'error' | 'forced';

/** What model.json says about an imported ONNX model's tensors. */
export interface ImportedIo {
  input: string;
  outputs: { label?: string; probabilities?: string; value?: string };
}

export interface ModelSpec {
  task: string;
  classes?: string[];
  inputSchema: { name: string; type: string }[];
  /** Built-in models: the fitted featurizer. Imported models have none. */
  featurizer: FeaturizerState | null;
  imported: ImportedIo | null;
}

/**
 * Resident bytes per byte of ONNX model and of featurizer JSON: a session holds the model's graph (the
 * tree attributes stay in it after the kernel is built), the tree-ensemble kernel's own node tables and
 * the featurizer's parsed state. Measured with SESSION_OPTIONS by `bench/serve/session-memory.ts` on GBDT
 * sessions of 21, 66, 167 and 295 KB: 205, 599, 1209 and 2289 KiB resident each (9.9, 9.2, 7.4 and 7.9×
 * the file); 8.5× plus a fixed part errs on the high side at every size (+2% to +20%). Freed sessions'
 * memory is reused by the next loads but not returned to the OS, so the budget bounds the high-water mark
 * only if estimates are not low. `npm run bench -- serve` (density) reports the real/estimate ratio.
 */
export const ONNX_BYTES_FACTOR = 8.5;
export const FEATURIZER_BYTES_FACTOR = 4;
/** Fixed cost of one session beyond its graph (kernel registry entries, session state, JS objects). */
export const SESSION_OVERHEAD_BYTES = 64 * 1024;

export function estimateBytes(onnxBytes: number, featurizerJsonBytes: number): number {
  return Math.ceil(
    onnxBytes * ONNX_BYTES_FACTOR + featurizerJsonBytes * FEATURIZER_BYTES_FACTOR + SESSION_OVERHEAD_BYTES,
  );
}

/**
 * One intra-op and one inter-op thread (thousands of cached sessions never multiply OS threads). No CPU
 * memory arena and no memory-pattern planning: a single-row run needs neither, and without them a session
 * is 5–25% smaller (`bench/serve/session-memory.ts`). Basic graph optimisation: the trees gain nothing from
 * the extended passes, and the optimised copy is smaller; run time per row is unchanged within noise.
 */
export const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'basic',
  enableCpuMemArena: false,
  enableMemPattern: false,
} as const satisfies Ort.InferenceSession.SessionOptions;

/**
 * Fixed cost of one native model beyond its typed arrays and featurizer: the plan's step closures, the
 * micro-batcher, the spec and the cache entry. `bench/serve/session-memory.ts` (engine rows, 500 models)
 * measured a 100-tree depth-4 GBDT (24 KB of typed arrays) at 29.3 KiB of JS heap and array buffers and
 * 37.2 KiB of RSS per model, featurizer included, against an estimate of 41.1 KiB with this fixed part:
 * the estimate errs on the high side, so the budget still bounds the cache. No ONNX bytes are kept after
 * compiling.
 */
export const NATIVE_OVERHEAD_BYTES = 8 * 1024;

export function estimateNativeBytes(planBytes: number, featurizerJsonBytes: number): number {
  return Math.ceil(planBytes + featurizerJsonBytes * FEATURIZER_BYTES_FACTOR + NATIVE_OVERHEAD_BYTES);
}

export interface LoadedModel {
  readonly key: string;
  readonly spec: ModelSpec;
  /** Which engine runs it. */
  readonly engine: EngineName;
  /** Why the graph went to ONNX Runtime instead (no values), when it did. */
  readonly fallbackReason?: string;
  /** The reason's bounded kind (a metric label), when the model runs in ONNX Runtime. */
  readonly fallbackKind?: FallbackKind;
  /** Columns of the model's input tensor. */
  readonly nFeatures: number;
  readonly bytes: number;
  readonly batcher: MicroBatcher;
  dispose(): Promise<void>;
}

/** Stand-ins for the native engine's parts, for tests (a compiler bug, a CPU whose kernels differ). */
export interface NativeHooks {
  compile?: (onnx: Uint8Array, nFeatures: number) => NativePlan;
  /** The parity probe; default: the process's, run once (src/runtime/native/parity-probe.ts). */
  parity?: ParityProbe;
}

export async function loadModel(
  key: string,
  onnx: Uint8Array,
  spec: ModelSpec,
  opts: {
    batchWindowMs: number;
    featurizerBytes: number;
    onRun?: () => void;
    /** Default `auto`. */
    engine?: InferenceEngine;
    native?: NativeHooks;
  },
): Promise<LoadedModel> {
  const inputName = spec.imported?.input ?? 'input';
  const nFeatures = spec.featurizer ? spec.featurizer.nFeatures : spec.inputSchema.length;
  let fallback: { kind: FallbackKind; reason: string } = {
    kind: 'forced',
    reason: 'the configured engine is onnxruntime',
  };
  if ((opts.engine ?? 'auto') === 'auto') {
    let plan: NativePlan | undefined;
    try {
      plan = (opts.native?.compile ?? compileOnnx)(onnx, nFeatures);
      if (plan.inputName !== inputName) throw new Unsupported(`the input is not named '${inputName}'`);
    } catch (err) {
      // An Unsupported graph goes to ONNX Runtime by design; any other error is a bug of the native
      // compiler, and the model still serves from ONNX Runtime (the caller logs and counts it).
      fallback =
        err instanceof Unsupported
          ? { kind: 'unsupported_op', reason: err.reason }
          : { kind: 'error', reason: 'native compiler error' };
      plan = undefined;
    }
    if (plan) {
      // Sigmoid, Softmax and MatMul reproduce ONNX Runtime's kernels as measured on x86-64 FMA3: before
      // the first graph using one runs natively, the process's probe checks them on this CPU.
      const probed = plan.ops.filter((op) => (PROBED_OPS as readonly string[]).includes(op));
      const differs = probed.length ? (await (opts.native?.parity ?? processParity)()).differs : undefined;
      const op = differs ? probed.find((o) => differs.has(o)) : undefined;
      if (op === undefined) return nativeModel(key, spec, plan, nFeatures, opts);
      fallback = { kind: 'parity', reason: `parity probe: ${op} differs on this CPU` };
    }
  }
  return loadOrt(key, onnx, spec, inputName, nFeatures, opts, fallback);
}

function nativeModel(
  key: string,
  spec: ModelSpec,
  plan: NativePlan,
  nFeatures: number,
  opts: { batchWindowMs: number; featurizerBytes: number; onRun?: () => void },
): LoadedModel {
  const run = async (input: Float32Array, rows: number): Promise<Outputs> => {
    opts.onRun?.();
    return plan.run(input, rows);
  };
  return {
    key,
    spec,
    engine: 'native',
    nFeatures,
    bytes: estimateNativeBytes(plan.bytes, opts.featurizerBytes),
    batcher: new MicroBatcher(run, nFeatures, opts.batchWindowMs),
    async dispose() {},
  };
}

async function loadOrt(
  key: string,
  onnx: Uint8Array,
  spec: ModelSpec,
  inputName: string,
  nFeatures: number,
  opts: { batchWindowMs: number; featurizerBytes: number; onRun?: () => void },
  fallback: { kind: FallbackKind; reason: string },
): Promise<LoadedModel> {
  const ort = onnxRuntime();
  const session = await ort.InferenceSession.create(onnx, { ...SESSION_OPTIONS });
  const run = async (input: Float32Array, rows: number): Promise<Outputs> => {
    opts.onRun?.();
    const res = await session.run({ [inputName]: new ort.Tensor('float32', input, [rows, nFeatures]) });
    const out: Outputs = {};
    for (const [name, t] of Object.entries(res))
      out[name] = { data: t.data as Outputs[string]['data'], dims: t.dims };
    return out;
  };
  let disposed = false;
  return {
    key,
    spec,
    engine: 'onnxruntime',
    fallbackReason: fallback.reason,
    fallbackKind: fallback.kind,
    nFeatures,
    bytes: estimateBytes(onnx.byteLength, opts.featurizerBytes),
    batcher: new MicroBatcher(run, nFeatures, opts.batchWindowMs),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
