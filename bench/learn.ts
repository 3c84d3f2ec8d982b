// `npm run bench -- learn [--rss | --all] [--record] [--skip-anchors] [--rss-rows N] [--rss-rounds N] [--rss-threads N]`:
// our linear model and GBDT against scikit-learn and XGBoost on the same fixed splits (anchors run
// through /usr/bin/python3, bench/learn/anchors.py), and peak RSS of tree training on 1M × 50.

import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainGbdt } from '../src/ml/gbdt/index.ts';
import { predictTrees } from '../src/ml/gbdt/predict.ts';
import { fitLogistic } from '../src/ml/linear/index.ts';
import { accuracy, auc } from '../src/ml/metrics.ts';
import { argmaxRows, predictLinear } from '../src/ml/predict.ts';
import type { DenseMatrix } from '../src/ml/types.ts';
import { createHistogramPool, type ThreadedHistogramPool } from '../src/runtime/threads/histogram-pool.ts';
import { machineParts, numberOption } from './common.ts';
import { readSplit, type Split } from './learn/data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
const DATASETS = ['breast_cancer', 'digits', 'synthetic_100k'] as const;

interface Score {
  accuracy: number;
  auc: number;
  trainSeconds: number;
  cpuSeconds: number;
}
interface AnchorJson {
  sklearn: string;
  xgboost: string;
  datasets: Record<string, { rows: number; cols: number; classes: number; models: Record<string, Score> }>;
}

function flag(args: string[], name: string): boolean {
  return args.includes(name);
}

function runAnchors(skipTrain: boolean): AnchorJson {
  const res = spawnSync(
    '/usr/bin/python3',
    [join(here, 'learn', 'anchors.py'), outDir, ...(skipTrain ? ['--skip-train'] : [])],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  if (res.status !== 0) throw new Error(`anchors.py failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as AnchorJson;
}

/** Standardisation fitted on the training rows, as StandardScaler does (population sd, 1 for constants). */
function standardise(train: DenseMatrix, others: DenseMatrix[]): void {
  const { rows, cols } = train;
  for (let f = 0; f < cols; f++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += train.data[r * cols + f];
    const mean = s / rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (train.data[r * cols + f] - mean) ** 2;
    const sd = Math.sqrt(v / rows) || 1;
    for (const m of [train, ...others])
      for (let r = 0; r < m.rows; r++) m.data[r * cols + f] = (m.data[r * cols + f] - mean) / sd;
  }
}

function score(P: Float64Array, test: Split, nClasses: number, seconds: number, cpuSeconds: number): Score {
  const yTrue = Int32Array.from(test.y);
  const yPred = argmaxRows(P, test.X.rows, nClasses);
  return {
    accuracy: accuracy(yTrue, yPred),
    auc: auc(yTrue, P, nClasses) ?? Number.NaN,
    trainSeconds: seconds,
    cpuSeconds,
  };
}

const cpuSince = (c0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
};

const sameModel = (a: unknown, b: unknown): boolean => {
  const enc = (m: unknown): string =>
    JSON.stringify(m, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v));
  return enc(a) === enc(b);
};

function ours(
  train: Split,
  test: Split,
  nClasses: number,
  pool: ThreadedHistogramPool,
): Record<string, Score> {
  const task = nClasses === 2 ? 'binary' : 'multiclass';
  const trees = (histogramPool?: ThreadedHistogramPool) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = trainGbdt(
      train.X,
      train.y,
      task,
      nClasses,
      { nRounds: 200, maxDepth: 6, learningRate: 0.1 },
      { seed: 0, ...(histogramPool ? { histogramPool } : {}) },
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSince(c0);
    return { res, score: score(predictTrees(res.model, test.X), test, nClasses, seconds, cpu) };
  };
  const single = trees();
  const pooled = trees(pool);
  if (!sameModel(single.res.model, pooled.res.model))
    throw new Error('the 2-thread model differs from the single-threaded one');
  // Linear: copies, because standardisation rewrites the matrices.
  const Xtr: DenseMatrix = { ...train.X, data: Float64Array.from(train.X.data) };
  const Xte: DenseMatrix = { ...test.X, data: Float64Array.from(test.X.data) };
  const c2 = process.cpuUsage();
  const t2 = performance.now();
  standardise(Xtr, [Xte]);
  const lin = fitLogistic(Xtr, Int32Array.from(train.y), nClasses, { C: 1, maxIterations: 1000 });
  const t3 = performance.now();
  const linCpu = cpuSince(c2);
  const linScore = score(predictLinear(lin.model, Xte), test, nClasses, (t3 - t2) / 1000, linCpu);
  return { tenantml_linear: linScore, tenantml_gbdt: single.score, tenantml_gbdt_2threads: pooled.score };
}

function rssRun(rows: number, cols: number, rounds: number, threads: number): Record<string, number> {
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(here, 'learn', 'rss-child.ts'),
      String(rows),
      String(cols),
      String(rounds),
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (res.status !== 0) throw new Error(`rss child failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

const OPTIONS_HELP = 'the options are described at the top of bench/learn.ts';

export async function main(args: string[]): Promise<void> {
  const lines: string[] = [];
  const out = (s = ''): void => {
    console.log(s);
    lines.push(s);
  };
  out(`## learn — ${new Date().toISOString()}`);
  out();
  out(`Command: \`npm run bench -- learn ${args.join(' ')}\`. Machine: ${machineParts().join('; ')}.`);
  out(`Load average (1/5/15 min) at start: ${load()}.`);
  out();

  if (!flag(args, '--rss')) {
    const anchors = runAnchors(flag(args, '--skip-anchors'));
    out(
      `Anchors: scikit-learn ${anchors.sklearn}, XGBoost ${anchors.xgboost} (nthread=2); ours single-threaded ` +
        '(tenantml_gbdt) and with histograms built on 2 threads (tenantml_gbdt_2threads, the same model).',
    );
    out('GBDTs: 200 rounds, depth 6, learning rate 0.1. Splits: stratified 80/20, random_state=0.');
    out();
    out(
      '| dataset | model | accuracy | AUC | train s (wall) | train s (CPU) | Δacc vs best anchor of the family (pts) | wall / XGBoost | CPU / XGBoost | CPU / XGBoost 1 thread | wall / HGB |',
    );
    out('|---|---|---|---|---|---|---|---|---|---|---|');
    const verdicts: string[] = [];
    const pool = await createHistogramPool({ threads: 2 });
    for (const name of DATASETS) {
      const entry = anchors.datasets[name];
      const train = readSplit(join(outDir, `learn-${name}-train.csv`));
      const test = readSplit(join(outDir, `learn-${name}-test.csv`));
      const mine = ours(train, test, entry.classes, pool);
      const anchorsOf = (names: string[]): number =>
        Math.max(...names.map((n) => entry.models[n]?.accuracy ?? Number.NaN));
      const bestTreeAnchor = anchorsOf(['sklearn_hgb', 'xgboost', 'xgboost_1thread']);
      const bestLinearAnchor = anchorsOf(['sklearn_logreg']);
      const bestAnchor = Math.max(bestTreeAnchor, bestLinearAnchor);
      const xgb = entry.models.xgboost;
      const hgb = entry.models.sklearn_hgb;
      const xgb1 = entry.models.xgboost_1thread;
      for (const [model, s] of Object.entries({ ...entry.models, ...mine })) {
        const isOurs = model.startsWith('tenantml');
        const isTrees = model.includes('gbdt');
        const family = isTrees ? bestTreeAnchor : bestLinearAnchor;
        const delta = isOurs ? ((s.accuracy - family) * 100).toFixed(2) : '';
        const ratio = (a: number, b: number | undefined): string =>
          isOurs && isTrees && b ? (a / b).toFixed(2) : '';
        out(
          `| ${name} | ${model} | ${f3(s.accuracy)} | ${f3(s.auc)} | ${s.trainSeconds.toFixed(2)} | ${s.cpuSeconds.toFixed(2)} | ${delta} | ${ratio(s.trainSeconds, xgb?.trainSeconds)} | ${ratio(s.cpuSeconds, xgb?.cpuSeconds)} | ${ratio(s.cpuSeconds, xgb1?.cpuSeconds)} | ${ratio(s.trainSeconds, hgb?.trainSeconds)} |`,
        );
      }
      const bestOurs = Math.max(...Object.values(mine).map((m) => m.accuracy));
      const gap = (bestOurs - bestAnchor) * 100;
      verdicts.push(
        `${name}: best of ours ${f3(bestOurs)} vs best anchor ${f3(bestAnchor)} → ${gap.toFixed(2)} pts (${gap >= -1 ? 'within' : 'MISSES'} the 1-point target)`,
      );
    }
    await pool.close();
    out();
    for (const v of verdicts) out(`- ${v}`);
    out();
  }
  if (flag(args, '--rss') || flag(args, '--all')) {
    const rows = numberOption(args, '--rss-rows', 1_000_000, OPTIONS_HELP);
    const rounds = numberOption(args, '--rss-rounds', 20, OPTIONS_HELP);
    const threads = numberOption(args, '--rss-threads', 2, OPTIONS_HELP);
    const r = rssRun(rows, 50, rounds, threads);
    out(
      `RSS: GBDT on generated ${rows} × 50 (float64 input, ${rounds} rounds, depth 6, ${threads} histogram thread(s)), measured alone in a child ` +
        `process: peak RSS ${r.maxRssMB.toFixed(0)} MB (after generating the data: ${r.rssAfterDataMB.toFixed(0)} MB), ` +
        `train ${r.trainSeconds.toFixed(1)} s.`,
    );
    out();
  }
  out(`Load average at end: ${load()}.`);
  out();
  if (flag(args, '--record')) appendFileSync(join(here, 'RESULTS.md'), `${lines.join('\n')}\n`);
}
