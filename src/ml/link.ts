// The link from raw scores to outputs, shared by every model family (and mirrored by the ONNX head):
// sigmoid for binary (two columns [1 − p, p]), softmax for multiclass, identity for regression.
import type { Task } from './types.ts';

/** Raw scores (n × K) to the output convention: sigmoid, softmax, or identity. */
export function scoresToOutput(task: Task, z: Float64Array, n: number, K: number): Float64Array {
  if (task === 'regression') return z;
  if (task === 'binary') {
    const out = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const s = z[i];
      const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) mx = Math.max(mx, z[i * K + k]);
    let se = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(z[i * K + k] - mx);
      out[i * K + k] = e;
      se += e;
    }
    for (let k = 0; k < K; k++) out[i * K + k] /= se;
  }
  return out;
}
