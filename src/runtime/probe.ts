// Checks an uploaded ONNX model before it becomes a shared model: it must load in ONNX Runtime, take one
// float input of shape [N, F] with F the declared feature count, and produce the declared outputs for a
// probe batch of zeros. The answer names what is wrong, never the model's bytes.
import type { ImportedIo } from './loaded-model.ts';
import { type Ort, onnxRuntime } from './ort.ts';

export interface ProbeSpec {
  /** Input tensor name; the model's only input when absent. */
  input?: string;
  features: number;
  task: 'binary' | 'multiclass' | 'regression';
  /** Classifiers: the class names, in probability-column order. */
  classes?: string[];
  outputs: ImportedIo['outputs'];
}

/** The resolved tensor names: what model.json records as `imported`. */
export type ProbeResult = ImportedIo;

/** Resolves with the resolved names, or rejects with `{field, message}` describing the first problem. */
export async function probeOnnx(bytes: Uint8Array, spec: ProbeSpec): Promise<ProbeResult> {
  const ort = onnxRuntime();
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'basic',
    });
  } catch (err) {
    throw { field: 'onnx', message: `ONNX Runtime cannot load it (${firstLine(err)})` };
  }
  try {
    const input = spec.input ?? (session.inputNames.length === 1 ? session.inputNames[0] : undefined);
    if (!input || !session.inputNames.includes(input)) {
      throw {
        field: 'input',
        message: `name the input tensor; the model has ${session.inputNames.map((n) => `'${n}'`).join(', ')}`,
      };
    }
    const meta = session.inputMetadata[session.inputNames.indexOf(input)];
    if (meta?.isTensor && meta.type !== 'float32')
      throw {
        field: 'input',
        message: `input '${input}' is ${meta.type}; a float32 [N, F] input is required`,
      };
    if (meta?.isTensor && meta.shape.length > 0) {
      const last = meta.shape[meta.shape.length - 1];
      if (meta.shape.length !== 2 || (typeof last === 'number' && last !== spec.features))
        throw {
          field: 'inputs',
          message: `input '${input}' has shape [${meta.shape.join(', ')}]; ${spec.features} features were declared`,
        };
    }
    const outputs = { ...spec.outputs };
    const has = (n: string) => session.outputNames.includes(n);
    if (spec.task === 'regression') {
      outputs.value ??= has('value') ? 'value' : session.outputNames[0];
      if (!outputs.value || !has(outputs.value)) throw { field: 'outputs.value', message: 'no such output' };
    } else {
      outputs.probabilities ??= has('probabilities') ? 'probabilities' : undefined;
      outputs.label ??= has('label') ? 'label' : undefined;
      if (!outputs.probabilities && !outputs.label)
        throw { field: 'outputs', message: 'name the probabilities and/or label output of the classifier' };
      for (const k of ['probabilities', 'label'] as const) {
        const n = outputs[k];
        if (n && !has(n)) throw { field: `outputs.${k}`, message: `the model has no output '${n}'` };
      }
    }
    const n = 2;
    const feed = {
      [input]: new ort.Tensor('float32', new Float32Array(n * spec.features), [n, spec.features]),
    };
    let out: Record<string, Ort.OnnxValue>;
    try {
      out = await session.run(feed);
    } catch (err) {
      throw { field: 'onnx', message: `the model fails on a probe batch (${firstLine(err)})` };
    }
    if (outputs.probabilities) {
      const p = out[outputs.probabilities] as Ort.Tensor | undefined;
      const cols = p ? p.dims[p.dims.length - 1] : undefined;
      const expected = spec.task === 'binary' ? 2 : spec.classes?.length;
      if (!p || p.dims[0] !== n || (expected !== undefined && cols !== expected))
        throw {
          field: 'classes',
          message: `the probabilities output has shape [${p?.dims.join(', ')}]; expected [N, ${expected}]`,
        };
    }
    if (outputs.value) {
      const v = out[outputs.value] as Ort.Tensor | undefined;
      if (!v || v.size !== n) throw { field: 'outputs.value', message: 'expected one value per row' };
    }
    return { input, outputs };
  } finally {
    await session.release();
  }
}

function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n')[0].slice(0, 200);
}
