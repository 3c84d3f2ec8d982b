// Child process of `npm run bench -- learn --rss`: generates rows × cols, trains trees, reports the
// peak RSS of this process alone as one JSON line. Args: rows cols rounds [threads, default 2].
import { trainGbdt } from '../../src/ml/gbdt/index.ts';
import { createRng } from '../../src/ml/rng.ts';
import { createHistogramPool } from '../../src/runtime/threads/histogram-pool.ts';
import { synthetic } from './data.ts';

const [rows, cols, rounds, threadArg] = process.argv.slice(2).map(Number);
const threads = threadArg || 2;
const pool = threads > 1 ? await createHistogramPool({ threads }) : undefined;
const rng = createRng(1);
const t0 = performance.now();
const { X, y } = synthetic(rows, cols, rng.next);
const rssAfterData = process.memoryUsage().rss;
const t1 = performance.now();
const { model } = trainGbdt(
  X,
  y,
  'binary',
  2,
  { nRounds: rounds, maxDepth: 6, learningRate: 0.1 },
  { seed: 1, ...(pool ? { histogramPool: pool } : {}) },
);
const t2 = performance.now();
await pool?.close();
console.log(
  JSON.stringify({
    rows,
    cols,
    rounds,
    threads,
    trees: model.trees.length,
    generateSeconds: (t1 - t0) / 1000,
    trainSeconds: (t2 - t1) / 1000,
    rssAfterDataMB: rssAfterData / 2 ** 20,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
