// ONNX Runtime, loaded on first use. Its native library is ~15–22 MB of the process's resident memory;
// a serving process whose models all run in the native engine never needs it (the parity probe runs in a
// child process of its own: native/parity-probe.ts). CommonJS, so the require stays synchronous.
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

const require = createRequire(import.meta.url);
let loaded: typeof Ort | undefined;

/** The onnxruntime-node module, required on the first call. */
export function onnxRuntime(): typeof Ort {
  loaded ??= require('onnxruntime-node') as typeof Ort;
  return loaded;
}

export type { Ort };
