// Resident bytes per ONNX Runtime session under each session-option set the density step could use:
// N sessions of the same trained GBDT are created in one fresh child process per option set and RSS is
// read before and after (and after releasing them all, to see whether freed memory goes back to the OS).
// Then the same for the native engine (src/runtime/native/): N loaded models of that GBDT, each with its
// own parsed featurizer as the model cache holds them, against their estimated bytes (real/estimate).
// `node --import tsx bench/serve/session-memory.ts [trees] [depth] [n]`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { estimateBytes, type LoadedModel, loadModel } from '../../src/runtime/loaded-model.ts';
import { trainBenchModel } from './rig.ts';

const OPTION_SETS: Record<string, ort.InferenceSession.SessionOptions> = {
  'all opt (before)': { graphOptimizationLevel: 'all' },
  'arena off': { graphOptimizationLevel: 'all', enableCpuMemArena: false },
  'arena+pattern off': { graphOptimizationLevel: 'all', enableCpuMemArena: false, enableMemPattern: false },
  'basic opt, arena+pattern off': {
    graphOptimizationLevel: 'basic',
    enableCpuMemArena: false,
    enableMemPattern: false,
  },
  'no opt, arena+pattern off': {
    graphOptimizationLevel: 'disabled',
    enableCpuMemArena: false,
    enableMemPattern: false,
  },
};

const rss = () => process.memoryUsage().rss;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Native models (and, for comparison, ORT-engine models) as the service loads them: featurizer included. */
async function engineChild(engine: 'auto' | 'onnxruntime', trees: number, depth: number, n: number) {
  const trained = trainBenchModel(trees, depth);
  const onnx = trained.onnx as Uint8Array;
  const featurizerJson = JSON.stringify(trained.featurizer);
  const featurizerBytes = featurizerJson.length + JSON.stringify(trained.modelJson).length;
  const load = (i: number) =>
    loadModel(
      `k${i}`,
      onnx,
      {
        task: 'binary',
        classes: ['no', 'yes'],
        inputSchema: [],
        featurizer: JSON.parse(featurizerJson),
        imported: null,
      },
      { batchWindowMs: 0, featurizerBytes, engine },
    );
  const input = new Float32Array(trained.featurizer.nFeatures).fill(0.1);
  const warm = await load(-1);
  await warm.batcher.submit(input, 1);
  gc();
  const before = rss();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const models: LoadedModel[] = [];
  for (let i = 0; i < n; i++) {
    const m = await load(i);
    await m.batcher.submit(input, 1);
    models.push(m);
  }
  gc();
  const loaded = rss();
  const heapLoaded = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) await models[i % n].batcher.submit(input, 1);
  const runUs = ((performance.now() - t0) / 2000) * 1000;
  const estimate = models[0].bytes;
  for (const m of models.splice(0)) await m.dispose();
  gc();
  const released = rss();
  for (let i = 0; i < n; i++) {
    const m = await load(i);
    await m.batcher.submit(input, 1);
    await m.dispose();
  }
  gc();
  const churned = rss();
  process.send?.({
    name: `${engine === 'auto' ? 'native engine' : 'ONNX Runtime engine'} (model incl. featurizer)`,
    bytes: onnx.byteLength,
    perSession: (loaded - before) / n,
    heapPer: (heapLoaded - heapBefore) / n,
    estimate,
    runUs,
    before,
    loaded,
    released,
    churned,
  });
}

async function child(name: string, trees: number, depth: number, n: number): Promise<void> {
  const onnx = trainBenchModel(trees, depth).onnx!;
  const opts = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    ...OPTION_SETS[name],
  };
  const input = new ort.Tensor('float32', new Float32Array(10).fill(0.1), [1, 10]);
  const warm = await ort.InferenceSession.create(onnx, opts);
  await warm.run({ input });
  const before = rss();
  const sessions = [];
  for (let i = 0; i < n; i++) {
    const s = await ort.InferenceSession.create(onnx, opts);
    await s.run({ input });
    sessions.push(s);
  }
  const loaded = rss();
  // run latency of one row, to see what an option costs
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) await sessions[i % n].run({ input });
  const runUs = ((performance.now() - t0) / 2000) * 1000;
  for (const s of sessions) await s.release();
  const released = rss();
  // churn: create and release n more, one at a time, as an LRU under a small budget would
  for (let i = 0; i < n; i++) {
    const s = await ort.InferenceSession.create(onnx, opts);
    await s.run({ input });
    await s.release();
  }
  const churned = rss();
  process.send?.({
    name,
    bytes: onnx.byteLength,
    perSession: (loaded - before) / n,
    runUs,
    before,
    loaded,
    released,
    churned,
  });
}

async function main(): Promise<void> {
  const [trees = 100, depth = 4, n = 200] = process.argv.slice(2).map(Number);
  const which = process.env.SESSION_MEMORY_CHILD;
  if (which === 'engine:auto' || which === 'engine:onnxruntime') {
    await engineChild(which === 'engine:auto' ? 'auto' : 'onnxruntime', trees, depth, n);
    return;
  }
  if (which) {
    await child(which, trees, depth, n);
    return;
  }
  const mb = (x: number) => (x / 1024 / 1024).toFixed(1);
  console.log(
    `| options (${trees} trees, depth ${depth}, ${n} sessions) | ONNX bytes | KiB per session | estimate KiB (real/estimate) | run µs (1 row) | RSS before / loaded / all released / after ${n} more create+release (MB) |`,
  );
  console.log('|---|---|---|---|---|---|');
  for (const name of [...Object.keys(OPTION_SETS), 'engine:onnxruntime', 'engine:auto']) {
    const r = await new Promise<Record<string, number> & { name?: string }>((resolve, reject) => {
      const c = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
        env: { ...process.env, SESSION_MEMORY_CHILD: name },
        execArgv: ['--import', 'tsx', '--expose-gc'],
      });
      c.once('message', (m) => resolve(m as Record<string, number> & { name?: string }));
      c.once('error', reject);
    });
    // Sessions alone are estimated without a featurizer; the engine rows carry their own estimate.
    const est =
      r.estimate ?? (r.name === 'basic opt, arena+pattern off' ? estimateBytes(r.bytes, 0) : Number.NaN);
    const estCell = Number.isFinite(est)
      ? `${(est / 1024).toFixed(1)} (${(r.perSession / est).toFixed(2)})`
      : '';
    const heap = r.heapPer !== undefined ? `; JS heap + array buffers ${(r.heapPer / 1024).toFixed(1)}` : '';
    console.log(
      `| ${r.name ?? name} | ${r.bytes} | ${(r.perSession / 1024).toFixed(1)}${heap} | ${estCell} | ${r.runUs.toFixed(1)} | ${mb(r.before)} / ${mb(r.loaded)} / ${mb(r.released)} / ${mb(r.churned)} |`,
    );
  }
}

await main();
