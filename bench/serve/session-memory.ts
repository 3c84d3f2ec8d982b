// Resident bytes per ONNX Runtime session under each session-option set the density step could use:
// N sessions of the same trained GBDT are created in one fresh child process per option set and RSS is
// read before and after (and after releasing them all, to see whether freed memory goes back to the OS).
// `node --import tsx bench/serve/session-memory.ts [trees] [depth] [n]`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
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
  if (process.env.SESSION_MEMORY_CHILD) {
    await child(process.env.SESSION_MEMORY_CHILD, trees, depth, n);
    return;
  }
  const mb = (x: number) => (x / 1024 / 1024).toFixed(1);
  console.log(
    `| options (${trees} trees, depth ${depth}, ${n} sessions) | ONNX bytes | KiB per session | run µs (1 row) | RSS before / loaded / all released / after ${n} more create+release (MB) |`,
  );
  console.log('|---|---|---|---|---|');
  for (const name of Object.keys(OPTION_SETS)) {
    const r = await new Promise<Record<string, number>>((resolve, reject) => {
      const c = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
        env: { ...process.env, SESSION_MEMORY_CHILD: name },
        execArgv: ['--import', 'tsx'],
      });
      c.once('message', (m) => resolve(m as Record<string, number>));
      c.once('error', reject);
    });
    console.log(
      `| ${name} | ${r.bytes} | ${(r.perSession / 1024).toFixed(1)} | ${r.runUs.toFixed(1)} | ${mb(r.before)} / ${mb(r.loaded)} / ${mb(r.released)} / ${mb(r.churned)} |`,
    );
  }
}

await main();
