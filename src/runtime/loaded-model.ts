// One model version ready to serve: its ONNX Runtime session (one intra-op and one inter-op thread, so
// thousands of cached models never multiply OS threads), what turns instances into its input, and its
// micro-batcher. Built from decrypted artifact bytes; nothing here reads storage.
import * as ort from 'onnxruntime-node';
import type { FeaturizerState } from '../ml/featurizer.ts';
import { MicroBatcher, type Outputs } from './batcher.ts';

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
 * Resident bytes per byte of ONNX model and of featurizer JSON: a session holds the parsed graph, its
 * optimised copy and the tree-ensemble kernel's own tables; the featurizer its parsed state. Measured on
 * GBDT sessions of 21–295 KB (158 KiB–1 MiB resident each, 3.6–7.6× the file: the ratio falls with size),
 * so 6× plus a fixed part errs on the high side for small models; `npm run bench -- serve` (density)
 * reports the real/estimate ratio.
 */
export const ONNX_BYTES_FACTOR = 6;
export const FEATURIZER_BYTES_FACTOR = 4;
/** Fixed cost of one session beyond its graph (allocator arenas, kernel registry entries, JS objects). */
export const SESSION_OVERHEAD_BYTES = 128 * 1024;

export function estimateBytes(onnxBytes: number, featurizerJsonBytes: number): number {
  return (
    onnxBytes * ONNX_BYTES_FACTOR + featurizerJsonBytes * FEATURIZER_BYTES_FACTOR + SESSION_OVERHEAD_BYTES
  );
}

export interface LoadedModel {
  readonly key: string;
  readonly spec: ModelSpec;
  /** Columns of the model's input tensor. */
  readonly nFeatures: number;
  readonly bytes: number;
  readonly batcher: MicroBatcher;
  dispose(): Promise<void>;
}

export async function loadModel(
  key: string,
  onnx: Uint8Array,
  spec: ModelSpec,
  opts: { batchWindowMs: number; featurizerBytes: number; onRun?: () => void },
): Promise<LoadedModel> {
  const session = await ort.InferenceSession.create(onnx, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputName = spec.imported?.input ?? 'input';
  const nFeatures = spec.featurizer ? spec.featurizer.nFeatures : spec.inputSchema.length;
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
