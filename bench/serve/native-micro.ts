// Micro-benchmark of the native engine against ONNX Runtime on one trained binary GBDT (default 100 trees,
// depth 6): the cost of one single-row run (the plan alone, and through the loaded model's batcher, which
// is what a predict request pays), a 64-row run, and the cost of a load (decode + compile vs creating a
// session). Unrecorded; `node --import tsx bench/serve/native-micro.ts [trees] [depth]`.
import * as ort from 'onnxruntime-node';
import { loadModel, SESSION_OPTIONS } from '../../src/runtime/loaded-model.ts';
import { compileOnnx } from '../../src/runtime/native/plan.ts';
import { N_FEATURES, trainBenchModel } from './rig.ts';

const [trees = 100, depth = 6] = process.argv.slice(2).map(Number);
const trained = trainBenchModel(trees, depth);
const onnx = trained.onnx as Uint8Array;
const F = trained.featurizer.nFeatures;
if (F !== N_FEATURES) throw new Error(`expected ${N_FEATURES} features, got ${F}`);

const rows = (n: number, seed: number) => {
  const x = new Float32Array(n * F);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(seed * 31 + i * 7.3) * 0.9;
  return x;
};
const quantiles = (xs: number[]) => {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), max: s[s.length - 1] };
};
const f2 = (x: number) => x.toFixed(2);

// Loads: decode + compile (native) and session creation (ORT), one after another.
const nativeLoads: number[] = [];
let plan = compileOnnx(onnx, F);
for (let i = 0; i < 300; i++) {
  const t0 = performance.now();
  plan = compileOnnx(onnx, F);
  nativeLoads.push(performance.now() - t0);
}
const ortLoads: number[] = [];
const sessions: ort.InferenceSession[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  sessions.push(await ort.InferenceSession.create(onnx, { ...SESSION_OPTIONS }));
  ortLoads.push(performance.now() - t0);
}
for (const s of sessions.splice(1)) await s.release();
const session = sessions[0];

// Single-row runs.
const inputs = Array.from({ length: 256 }, (_, i) => rows(1, i));
let sink = 0;
const N = 200_000;
for (let i = 0; i < 20_000; i++) sink += (plan.run(inputs[i & 255], 1).label.data as BigInt64Array).length;
let t0 = performance.now();
for (let i = 0; i < N; i++) sink += (plan.run(inputs[i & 255], 1).label.data as BigInt64Array).length;
const planUs = ((performance.now() - t0) / N) * 1000;

const m = await loadModel(
  'k',
  onnx,
  { task: 'binary', classes: ['no', 'yes'], inputSchema: [], featurizer: trained.featurizer, imported: null },
  { batchWindowMs: 0, featurizerBytes: 0 },
);
const M = 50_000;
for (let i = 0; i < 5_000; i++) await m.batcher.submit(inputs[i & 255], 1);
t0 = performance.now();
for (let i = 0; i < M; i++) await m.batcher.submit(inputs[i & 255], 1);
const batcherUs = ((performance.now() - t0) / M) * 1000;

const tensors = inputs.map((x) => new ort.Tensor('float32', x, [1, F]));
for (let i = 0; i < 5_000; i++) await session.run({ input: tensors[i & 255] });
t0 = performance.now();
for (let i = 0; i < M; i++) await session.run({ input: tensors[i & 255] });
const ortUs = ((performance.now() - t0) / M) * 1000;

// 64 rows at once (a micro-batch).
const x64 = rows(64, 9);
const t64 = new ort.Tensor('float32', x64, [64, F]);
t0 = performance.now();
for (let i = 0; i < 5_000; i++) sink += plan.run(x64, 64).label.data.length;
const plan64 = ((performance.now() - t0) / 5_000) * 1000;
t0 = performance.now();
for (let i = 0; i < 5_000; i++) await session.run({ input: t64 });
const ort64 = ((performance.now() - t0) / 5_000) * 1000;

const ln = quantiles(nativeLoads);
const lo = quantiles(ortLoads);
console.log(
  [
    `native engine vs ONNX Runtime ${ort.env.versions.common}: binary GBDT, ${trees} trees, depth ${depth}, ONNX ${onnx.byteLength} bytes; native plan ${plan.bytes} bytes of typed arrays (${plan.ops.join(', ')})`,
    '',
    '| measure | native | ONNX Runtime |',
    '|---|---|---|',
    `| one row, the run alone (µs) | ${f2(planUs)} | ${f2(ortUs)} (session.run) |`,
    `| one row through the loaded model's micro-batcher (µs) | ${f2(batcherUs)} | |`,
    `| 64 rows (µs per run) | ${f2(plan64)} | ${f2(ort64)} |`,
    `| load: decode + compile / create session, p50 / p99 / max (ms) | ${f2(ln.p50)} / ${f2(ln.p99)} / ${f2(ln.max)} | ${f2(lo.p50)} / ${f2(lo.p99)} / ${f2(lo.max)} |`,
  ].join('\n'),
);
if (sink < 0) console.log(sink);
await session.release();
await m.dispose();
