// `npm run bench -- serve [flags]`: the inference plane under load, server and load generator on loopback
// in one run (the generator in a child process; every server in a process of its own, predict servers
// from the build as `npm start` runs them: bench/serve/server-process.ts). (a) single-row predict on a
// 100-tree model against a bare Fastify hello-world: peak requests/s (closed loop) and p99 at half of peak
// (open loop), with the micro-batcher on and off; (b) density: thousands of tenant models under Zipf(1.1)
// traffic and a cache budget — hit ratio, the server's RSS, cold-load p99, OS threads, and the measured
// bytes per loaded model; (c) noisy neighbour: A floods at 3× capacity while B sends 5% — B's p99 and
// 429s, A's 429s; (m) the cost of metering.

import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/core/config.ts';
import { machineParts, median, numberOption } from './common.ts';
import type { JobResult } from './serve/loadgen.ts';
import { meteringCost } from './serve/metering.ts';
import {
  BIG_QUOTAS,
  instance,
  LoadGen,
  predictPool,
  predictServer,
  trainBenchModel,
  zipf,
} from './serve/rig.ts';
import { ServerProcess, settingsFromEnvironment, startAnchor, startPool } from './serve/server-process.ts';

const here = dirname(fileURLToPath(import.meta.url));

const USAGE = `npm run bench -- serve [flags]
  --only LIST        a,b,c,m (default all; m: the cost of metering on the predict path)
  --processes N      (a) and (c): also serve predict from a serving pool of N API processes — (a)'s
                     verdict reads it, (c) is measured on both (default: this machine's cores; 1: one
                     process only)
  --rounds N         rounds of (a) hello-world/predict peaks, of (c) alone/flooded and of (m) on/off,
                     each read in alternation; verdicts on the medians (default 3)
  --duration S       measured seconds of each load step (default 8)
  --connections N    connections of the closed-loop steps (default 16)
  --models N         density: tenant models (default 2000)
  --budget-mb N      density: cache budget (default 256)
  --density-trees N  density: trees per tenant model (default 100)
  --density-depth N  density: depth of those trees (default 4)
  --density-snapshot F  density: write the server's heap snapshot to file F after the run
  --density-node-flags "F…"  density: node/V8 flags of the server process (e.g. "--max-semi-space-size=2")
  --capacity N       noisy neighbour: capacity in req/s of one process and of the pool when (a) is not
                     run (default: measured by a short closed loop)
  --engine E         auto|onnxruntime: the inference engine of every server started (sets
                     TENANTML_INFERENCE_ENGINE; default: that variable, else auto)
  --record           append the report to bench/RESULTS.md`;

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const statuses = (r: JobResult): string =>
  Object.entries(r.statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');

interface Opts {
  durationMs: number;
  connections: number;
}

/** A request the load generator repeats: what it sends, under a step name. */
type Step = {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
};

/** One closed-loop peak reading of `step` on the server at `port`. */
async function closedPeak(
  lg: LoadGen,
  port: number,
  step: Step,
  o: Opts,
  name = step.name,
): Promise<JobResult> {
  const [r] = await lg.run(port, [
    {
      ...step,
      name,
      connections: o.connections,
      durationMs: o.durationMs + 1000,
      warmupMs: 1000,
      mode: 'closed',
    },
  ]);
  return r;
}

/** Latency at half of `peak` req/s (open loop, latency from the scheduled send time). */
async function halfLoad(lg: LoadGen, port: number, step: Step, o: Opts, peak: number): Promise<JobResult> {
  const [r] = await lg.run(port, [
    {
      ...step,
      name: `${step.name} @50%`,
      connections: o.connections,
      durationMs: o.durationMs + 1000,
      warmupMs: 1000,
      mode: 'open',
      rate: Math.max(1, Math.round(peak / 2)),
    },
  ]);
  return r;
}

/**
 * The two readings of (a) for one server: its peak (closed loop) and its latency at half of that peak.
 * `beforeHalf` runs between the two.
 */
async function peakThenHalf(
  lg: LoadGen,
  port: number,
  step: Step,
  o: Opts,
  beforeHalf?: () => void,
): Promise<{ peak: JobResult; half: JobResult }> {
  const peak = await closedPeak(lg, port, step, o);
  beforeHalf?.();
  return { peak, half: await halfLoad(lg, port, step, o, peak.rps) };
}

async function predictPeak(
  lg: LoadGen,
  o: Opts,
  windowMs: number,
  trained: ReturnType<typeof trainBenchModel>,
): Promise<{ peak: JobResult; half: JobResult; runs: number; requests: number }> {
  const { s, job } = await predictServer(
    { TENANTML_INFERENCE_BATCH_WINDOW_MS: String(windowMs) },
    'bench-a',
    trained,
  );
  try {
    // Read between the peak and the half-load step (the generator's next step waits for it).
    let before: Promise<{ runs: number; requests: number }> = batchRuns(s);
    const { peak, half } = await peakThenHalf(
      lg,
      s.port,
      { ...job, name: `predict w=${windowMs}` },
      o,
      () => {
        before = batchRuns(s);
      },
    );
    const [b, after] = [await before, await batchRuns(s)];
    return { peak, half, runs: after.runs - b.runs, requests: after.requests - b.requests };
  } finally {
    await s.close();
  }
}

/** Model runs and predicted rows so far, read from the server's own metrics. */
async function batchRuns(s: Pick<ServerProcess, 'metricSum'>): Promise<{ runs: number; requests: number }> {
  return {
    runs: await s.metricSum('tenantml_onnx_runs_total'),
    requests: await s.metricSum('tenantml_predict_rows_total'),
  };
}

/** The batch window a server gets when nothing sets it (the bench's own environment counts). */
function defaultWindowMs(): number {
  const v = settingsFromEnvironment().TENANTML_INFERENCE_BATCH_WINDOW_MS;
  return v === undefined ? loadConfig({}, tmpdir()).inferenceBatchWindowMs : Number(v);
}

/** One anchor of (a) in its own process (bench/serve/anchor-child.mjs): its peak and its latency at half. */
async function anchorPeak(
  lg: LoadGen,
  o: Opts,
  kind: 'hello' | 'echo',
): Promise<{ peak: JobResult; half: JobResult }> {
  const a = await startAnchor(kind);
  const step: Step =
    kind === 'hello'
      ? { name: 'hello', method: 'GET', path: '/' }
      : {
          name: 'echo',
          method: 'POST',
          path: '/echo',
          headers: { Authorization: 'Bearer not-checked' },
          body: JSON.stringify({ instances: [instance(1)] }),
        };
  try {
    return await peakThenHalf(lg, a.port, step, o);
  } finally {
    await a.close();
  }
}

/** The reading with the median req/s of `rs` (the lower middle one for an even count). */
function medianRun(rs: JobResult[]): JobResult {
  return [...rs].sort((a, b) => a.rps - b.rps)[(rs.length - 1) >> 1];
}

async function partA(
  lg: LoadGen,
  o: Opts,
  rounds: number,
  processes: number,
  out: string[],
): Promise<{ single: number; pool?: number }> {
  const trained = trainBenchModel(100, 6);
  const def = defaultWindowMs();
  const windowEnv = { TENANTML_INFERENCE_BATCH_WINDOW_MS: String(def) };
  const helloStep: Step = { name: 'hello', method: 'GET', path: '/' };
  // The verdict's servers run side by side and their peaks are read in alternation, `rounds` times (the
  // order rotated every round), so that the shared machine's drift falls on each of them.
  const hello = await startAnchor('hello');
  const { s, job } = await predictServer(windowEnv, 'bench-a', trained);
  const pool = processes > 1 ? await predictPool(processes, windowEnv, 'bench-a', trained) : undefined;
  const predictStep: Step = { ...job, name: 'predict' };
  const poolStep: Step | undefined = pool && { ...pool.job, name: `pool of ${processes}` };
  const hPeaks: JobResult[] = [];
  const pPeaks: JobResult[] = [];
  const qPeaks: JobResult[] = [];
  let hHalf: JobResult;
  let pHalf: JobResult;
  let qHalf: JobResult | undefined;
  let runs: { runs: number; requests: number };
  let qRuns: { runs: number; requests: number } | undefined;
  try {
    const readers: (() => Promise<unknown>)[] = [
      async () => hPeaks.push(await closedPeak(lg, hello.port, helloStep, o)),
      async () => pPeaks.push(await closedPeak(lg, s.port, predictStep, o)),
      ...(pool && poolStep
        ? [async () => qPeaks.push(await closedPeak(lg, pool.pool.port, poolStep, o))]
        : []),
    ];
    for (let i = 0; i < rounds; i++)
      for (let k = 0; k < readers.length; k++) await readers[(i + k) % readers.length]();
    hHalf = await halfLoad(lg, hello.port, helloStep, o, medianRun(hPeaks).rps);
    /** The half-load reading of a predict server and the model runs and rows it counted meanwhile. */
    const halfWithRuns = async (
      src: Pick<ServerProcess, 'metricSum'>,
      port: number,
      step: Step,
      peaks: JobResult[],
    ) => {
      const before = await batchRuns(src);
      const half = await halfLoad(lg, port, step, o, medianRun(peaks).rps);
      const after = await batchRuns(src);
      return { half, runs: { runs: after.runs - before.runs, requests: after.requests - before.requests } };
    };
    ({ half: pHalf, runs } = await halfWithRuns(s, s.port, predictStep, pPeaks));
    if (pool && poolStep)
      ({ half: qHalf, runs: qRuns } = await halfWithRuns(pool.pool, pool.pool.port, poolStep, qPeaks));
  } finally {
    await hello.close();
    await s.close();
    await pool?.close();
  }
  const h = medianRun(hPeaks);
  const p = medianRun(pPeaks);
  const q = qPeaks.length ? medianRun(qPeaks) : undefined;
  // The verdict reads the pool when there is one: the issue's "one pool of processes".
  const served =
    q && qHalf
      ? { peak: q, half: qHalf, what: `pool of ${processes} API processes` }
      : { peak: p, half: pHalf, what: 'one process' };
  const ratio = served.peak.rps / h.rps;
  const echo = await anchorPeak(lg, o, 'echo');

  const rows: string[] = [];
  for (const w of [0, 1, 2].filter((x) => x !== def)) {
    const r = await predictPeak(lg, o, w, trained);
    rows.push(
      `| predict, batch window ${w} ms (one reading) | ${f1(r.peak.rps)} | ${pct(r.peak.rps / h.rps)} | ${f2(r.peak.p99)} | ${f1(r.half.rps)} | ${f2(r.half.p50)} | ${f2(r.half.p99)} | ${f2(r.requests / Math.max(1, r.runs))} | ${statuses(r.peak)} |`,
    );
  }
  const byRound = (xs: JobResult[]) => xs.map((x) => f1(x.rps)).join(' / ');
  out.push(
    '### (a) single-row predict vs a bare Fastify hello-world',
    '',
    `Model: binary GBDT, 100 trees, depth 6, 10 numeric features; ONNX ${trained.onnx!.byteLength} bytes. Peak: closed loop, ${o.connections} keep-alive connections, ${o.durationMs / 1000} s measured after 1 s warm-up; ${processes > 1 ? `hello-world, predict in one process and predict in a serving pool of ${processes} API processes (\`TENANTML_SERVE_PROCESSES=${processes} npm start\`, docs/serving-pool.md; default batch window) read in alternation, ${rounds} rounds, the medians compared; the verdict reads the pool.` : `hello-world and predict (default batch window) read in alternation, ${rounds} rounds, the medians compared.`} Half load: open loop at 50% of the median peak (latency from the scheduled send time). Load generator: raw keep-alive sockets in a child process (bench/serve/loadgen.ts). Every server in a process of its own: predict from the build as \`npm start\` serves it (bench/serve/server-child.mjs), the anchors plain JavaScript (bench/serve/anchor-child.mjs).`,
    '',
    `Peaks by round (req/s): hello-world ${byRound(hPeaks)}; predict ${byRound(pPeaks)}${qPeaks.length ? `; pool ${byRound(qPeaks)}` : ''}.`,
    '',
    '| server | peak req/s (median) | of hello-world | p99 at peak (ms) | req/s at 50% | p50 at 50% (ms) | p99 at 50% (ms) | requests per ONNX run (50%) | statuses at peak |',
    '|---|---|---|---|---|---|---|---|---|',
    `| Fastify hello-world | ${f1(h.rps)} | 100% | ${f2(h.p99)} | ${f1(hHalf.rps)} | ${f2(hHalf.p50)} | ${f2(hHalf.p99)} | | ${statuses(h)} |`,
    `| Fastify JSON POST echo (predict's body and answer, schemas, no work; one reading) | ${f1(echo.peak.rps)} | ${pct(echo.peak.rps / h.rps)} | ${f2(echo.peak.p99)} | ${f1(echo.half.rps)} | ${f2(echo.half.p50)} | ${f2(echo.half.p99)} | | ${statuses(echo.peak)} |`,
    `| predict, batch window ${def} ms (default), one process | ${f1(p.rps)} | ${pct(p.rps / h.rps)} | ${f2(p.p99)} | ${f1(pHalf.rps)} | ${f2(pHalf.p50)} | ${f2(pHalf.p99)} | ${f2(runs.requests / Math.max(1, runs.runs))} | ${statuses(p)} |`,
    ...(q && qHalf && qRuns
      ? [
          `| predict, batch window ${def} ms (default), serving pool of ${processes} API processes | ${f1(q.rps)} | ${pct(q.rps / h.rps)} | ${f2(q.p99)} | ${f1(qHalf.rps)} | ${f2(qHalf.p50)} | ${f2(qHalf.p99)} | ${f2(qRuns.requests / Math.max(1, qRuns.runs))} | ${statuses(q)} |`,
        ]
      : []),
    ...rows,
    '',
    `- target ≥ 50% of hello-world req/s: ${pct(ratio)} (${served.what}${q ? `; one process: ${pct(p.rps / h.rps)}` : ''}; medians of ${rounds} alternated rounds; default window, ${def} ms) → ${ratio >= 0.5 ? 'met' : 'MISSED'}`,
    `- target p99 ≤ 5 ms at half of peak: ${f2(served.half.p99)} ms (${served.what}${q ? `; one process: ${f2(pHalf.p99)} ms` : ''}; default window, ${def} ms) → ${served.half.p99 <= 5 ? 'met' : 'MISSED'}`,
    // What the machine allows any JSON POST handler, and what the generator adds to every latency: the
    // anchors' own readings, for judging the verdicts above.
    `- on this machine: the echo (no work, one process) reads ${pct(echo.peak.rps / h.rps)} of hello-world; hello-world's own p99 at half of its peak ${f2(hHalf.p99)} ms, the echo's ${f2(echo.half.p99)} ms`,
    '',
  );
  return { single: p.rps, pool: q?.rps };
}

async function partB(lg: LoadGen, o: Opts, args: string[], out: string[]): Promise<void> {
  const n = numberOption(args, '--models', 2000, USAGE);
  const budgetMb = numberOption(args, '--budget-mb', 256, USAGE);
  const trees = numberOption(args, '--density-trees', 100, USAGE);
  const depth = numberOption(args, '--density-depth', 4, USAGE);
  const snapshotAt = args.includes('--density-snapshot')
    ? args[args.indexOf('--density-snapshot') + 1]
    : undefined;
  const nodeFlags = args.includes('--density-node-flags')
    ? (args[args.indexOf('--density-node-flags') + 1] ?? '').split(' ').filter(Boolean)
    : [];
  const trained = trainBenchModel(trees, depth);
  const env = { TENANTML_INFERENCE_CACHE_BYTES: String(budgetMb * 1024 * 1024) };
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-bench-density-'));
  // The tenants and models are written by a setup server; the measured server then starts on them from
  // the build, as `npm start` runs it — its RSS (VmRSS) is the serving process's alone, without the
  // setup's garbage (a server restarted on 2,000 tenants).
  const setup = await ServerProcess.start(env, { dataDir });
  const t0 = performance.now();
  let setupRss: [number, number];
  try {
    const before = setup.rssMb();
    await setup.setupTenants('d', n, BIG_QUOTAS, 'm', trained);
    setupRss = [before, setup.rssMb()];
  } finally {
    await setup.close();
  }
  const setupS = (performance.now() - t0) / 1000;
  const s = await ServerProcess.start(env, { dataDir, nodeArgs: nodeFlags });
  const auth = { authorization: `Bearer ${s.adminKey}` };
  const body = JSON.stringify({ instances: [instance(3)] });
  const predict = async (tenants: number[]) => {
    for (const i of tenants) {
      const r = await s.inject({
        method: 'POST',
        url: '/v1/models/m/predict',
        headers: { ...auth, 'x-tenant-id': `d${i}`, 'content-type': 'application/json' },
        payload: body,
      });
      if (r.status !== 200) throw new Error(`predict d${i}: ${r.status} ${r.body}`);
    }
  };
  const stats = async () => ({ ...(await s.cache()), ...(await s.memory()) });
  try {
    const rssStart = s.rssMb();
    // Calibration: 200 cold loads one after another; resident bytes per model against the cache's estimate.
    await predict([n - 1]);
    const rss0 = s.rssMb();
    const c0 = await stats();
    const calib = Math.min(200, n - 1);
    await predict(Array.from({ length: calib }, (_, i) => i));
    const realPer = ((s.rssMb() - rss0) * 1024 * 1024) / calib;
    const c1 = await stats();
    const estPer = (c1.bytes - c0.bytes) / calib;

    // Zipf(1.1) traffic through the HTTP server: warm-up, then the measured window.
    const ranks = zipf(n, 1.1, 50_000);
    const requests = ranks.map((k) => ({
      path: '/v1/models/m/predict',
      headers: { Authorization: `Bearer ${s.adminKey}`, 'X-Tenant-Id': `d${k}` },
      body,
    }));
    const job = { method: 'POST' as const, path: '', requests, mode: 'closed' as const, connections: 8 };
    await lg.run(s.port, [{ ...job, name: 'density warm-up', durationMs: o.durationMs }]);
    const st0 = await stats();
    let rssMax = 0;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, s.rssMb());
    }, 100);
    const [r] = await lg.run(s.port, [{ ...job, name: 'density', durationMs: o.durationMs * 2 }]);
    clearInterval(sampler);
    rssMax = Math.max(rssMax, s.rssMb());
    const end = await stats();
    const hits = end.hits - st0.hits;
    const misses = end.misses - st0.misses;
    // The window's loads: the last (loads since st0) durations the cache kept.
    const windowLoads = Math.min(end.loads - st0.loads, end.recentLoadMs.length);
    const loadMs = Float64Array.from(end.recentLoadMs.slice(end.recentLoadMs.length - windowLoads)).sort();
    const q = (p: number) =>
      loadMs.length ? loadMs[Math.min(loadMs.length - 1, Math.floor(p * loadMs.length))] : Number.NaN;
    const hitRatio = hits / Math.max(1, hits + misses);
    const engines =
      Object.entries(end.engines)
        .map(([e, k]) => `${e} × ${k}`)
        .join(', ') || 'none';
    const mem = end;
    const cap = budgetMb * 1.25;
    out.push(
      '### (b) density',
      '',
      `${n} tenants, one model each (binary GBDT, ${trees} trees, depth ${depth}, ONNX ${trained.onnx!.byteLength} bytes, featurizer ${JSON.stringify(trained.featurizer).length} bytes; the same trained bytes in every tenant, each encrypted with its tenant's key), cache budget ${budgetMb} MiB. Setup ${f1(setupS)} s by a server process of its own; then the measured server starts on that data folder from the build, as \`npm start\` runs it (node ${[...nodeFlags, ''].join(' ')}bench/serve/server-child.mjs on dist/…); its RSS is VmRSS from /proc/<pid>/status. Traffic: Zipf(1.1) over the tenants, 8 connections closed loop, operator key + X-Tenant-Id, ${o.durationMs / 1000} s warm-up then ${(2 * o.durationMs) / 1000} s measured.`,
      '',
      '| measure | value | target |',
      '|---|---|---|',
      `| requests/s (measured window) | ${f1(r.rps)} (${statuses(r)}) | |`,
      `| hit ratio | ${pct(hitRatio)} (${hits} hits, ${misses} misses) | ≥ 90% → ${hitRatio >= 0.9 ? 'met' : 'MISSED'} |`,
      `| cold loads in the window: p50 / p99 / max (ms) | ${f2(q(0.5))} / ${f2(q(0.99))} / ${f2(loadMs[loadMs.length - 1] ?? Number.NaN)} (${loadMs.length} loads) | p99 ≤ 50 ms → ${q(0.99) <= 50 ? 'met' : 'MISSED'} |`,
      `| request latency p50 / p99 (ms) | ${f2(r.p50)} / ${f2(r.p99)} | |`,
      `| setup process RSS: after start / after the setup (MB) | ${f1(setupRss[0])} / ${f1(setupRss[1])} | |`,
      `| server RSS: after start on the ${n} tenants / one model loaded (MB) | ${f1(rssStart)} / ${f1(rss0)} | |`,
      `| server RSS, max in the window | ${f1(rssMax)} MB | ≤ ${f1(cap)} MB (budget + 25%) → ${rssMax <= cap ? 'met' : `MISSED by ${f1(rssMax - cap)} MB`} |`,
      `| server RSS above the process with one model loaded | ${f1(rssMax - rss0)} MB | |`,
      `| models in cache at the end; estimated bytes | ${end.size}; ${f1(end.bytes / 1024 / 1024)} MiB | |`,
      `| engine of the cached models | ${engines} | |`,
      `| at the end: RSS / V8 heap used / heap total / array buffers / other external (MB) | ${f1(mem.rss / 1e6)} / ${f1(mem.heapUsed / 1e6)} / ${f1(mem.heapTotal / 1e6)} / ${f1(mem.arrayBuffers / 1e6)} / ${f1((mem.external - mem.arrayBuffers) / 1e6)} | |`,
      `| RSS per loaded model (200 cold loads) vs the estimate | ${f1(realPer / 1024)} KiB vs ${f1(estPer / 1024)} KiB (real/estimate ${f2(realPer / estPer)}) | |`,
      `| OS threads: 1 model / ${calib + 1} models / after ${end.loads} loads | ${c0.threads} / ${c1.threads} / ${end.threads} | flat → ${end.threads <= c0.threads + 2 ? 'met' : 'MISSED'} |`,
      '',
    );
    if (snapshotAt) console.error(`density server heap snapshot: ${await s.heapSnapshot(snapshotAt)}`);
  } finally {
    await s.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Where (c) runs: one process, or a serving pool; its capacity in req/s sizes the flood and the quotas. */
interface NoisyTarget {
  label: string;
  capacity: number;
  /** Suffix of its tenants' ids (each target has tenants of its own, with quotas from its capacity). */
  suffix: string;
}

async function partC(
  o: Opts,
  targets: NoisyTarget[],
  processes: number,
  rounds: number,
  out: string[],
): Promise<void> {
  const trained = trainBenchModel(100, 6);
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-bench-noisy-'));
  let s: ServerProcess | undefined = await ServerProcess.start({}, { dataDir });
  let pool: Awaited<ReturnType<typeof startPool>> | undefined;
  // Each client in a generator process of its own (in A's, B's sends would wait behind the flood's 64
  // sockets). The measured flood's generator runs at the lowest scheduling priority: on this machine the
  // generators share the CPUs with the server, and a flood client at full priority takes CPU time from the
  // server and from B's client alike, which measures the test rig more than the server (in production A's
  // clients are other machines). The same flood at normal priority is measured too, for reference.
  const lgB = new LoadGen();
  const lgA = new LoadGen({ nice: 19 });
  const lgAFull = new LoadGen();
  try {
    // Tenants of every target first (through the one process), then each target measured in turn.
    const keys: { a: string; b: string }[] = [];
    for (const t of targets) {
      // A's own budget is half of the target's capacity: its flood is refused by its limits, not served.
      const aQuota = Math.max(1, Math.round(t.capacity / 2));
      const a = await s.tenant(`noisy-a${t.suffix}`, {
        requestsPerSecond: aQuota,
        predictionsPerSecond: aQuota,
      });
      const b = await s.tenant(`quiet-b${t.suffix}`, BIG_QUOTAS);
      await s.register(`noisy-a${t.suffix}`, 'm100', trained);
      await s.register(`quiet-b${t.suffix}`, 'm100', trained);
      keys.push({ a, b });
    }
    for (const [i, t] of targets.entries()) {
      let port = s?.port;
      if (t.suffix) {
        // The pool serves the same data folder, once the one process has let go of it.
        await s?.close();
        s = undefined;
        pool ??= await startPool(processes, dataDir);
        port = pool.port;
      }
      const readings = await noisyRounds(o, port!, keys[i]!, t.capacity, rounds, { lgA, lgAFull, lgB });
      out.push(...noisySection(o, t, rounds, readings));
    }
  } finally {
    lgA.close();
    lgAFull.close();
    lgB.close();
    await s?.close();
    await pool?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface NoisyReading {
  alone: JobResult;
  nice: { a: JobResult; b: JobResult };
  full: { a: JobResult; b: JobResult };
}

/**
 * `rounds` rounds of: B alone, B with A's flood (A's generator at nice 19), B with the flood at normal
 * priority. B's p99 is compared with its p99 alone in the same round; the verdict takes the median of the
 * rounds' ratios (on this shared machine one reading of a tail moves by ±30%).
 */
async function noisyRounds(
  o: Opts,
  port: number,
  keys: { a: string; b: string },
  capacity: number,
  rounds: number,
  gens: { lgA: LoadGen; lgAFull: LoadGen; lgB: LoadGen },
): Promise<NoisyReading[]> {
  const job = (key: string) => ({
    method: 'POST' as const,
    path: '/v1/models/m100/predict',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ instances: [instance(2)] }),
  });
  const bJob = {
    ...job(keys.b),
    mode: 'open' as const,
    rate: Math.max(1, Math.round(capacity * 0.05)),
    connections: 4,
    durationMs: o.durationMs + 1000,
    warmupMs: 1000,
  };
  const aJob = {
    ...job(keys.a),
    name: 'A flood',
    mode: 'open' as const,
    rate: Math.round(capacity * 3),
    connections: 64,
    durationMs: o.durationMs + 1000,
    warmupMs: 1000,
  };
  // Both models loaded (in every process of a pool: a few requests each) before anything is measured.
  for (const key of [keys.a, keys.b])
    await gens.lgB.run(port, [
      { ...job(key), name: 'warm', mode: 'closed', connections: 4, durationMs: 500, warmupMs: 0 },
    ]);
  const flood = async (gen: LoadGen, name: string) => {
    const [[a], [b]] = await Promise.all([
      gen.run(port, [{ ...aJob, name: `A ${name}` }]),
      gens.lgB.run(port, [{ ...bJob, name: `B ${name}` }]),
    ]);
    return { a, b };
  };
  const readings: NoisyReading[] = [];
  for (let i = 0; i < rounds; i++) {
    const [alone] = await gens.lgB.run(port, [{ ...bJob, name: `B alone #${i + 1}` }]);
    const nice = await flood(gens.lgA, `#${i + 1}`);
    const full = await flood(gens.lgAFull, `#${i + 1} (A at normal priority)`);
    readings.push({ alone, nice, full });
  }
  return readings;
}

/** The report of (c) on one target: its setup, every step, the verdicts. */
function noisySection(o: Opts, t: NoisyTarget, rounds: number, readings: NoisyReading[]): string[] {
  const aQuota = Math.max(1, Math.round(t.capacity / 2));
  const bRate = Math.max(1, Math.round(t.capacity * 0.05));
  const ratioNice = median(readings.map((x) => x.nice.b.p99 / x.alone.p99));
  const ratioFull = median(readings.map((x) => x.full.b.p99 / x.alone.p99));
  const sum = (f: (x: NoisyReading) => number) => readings.reduce((n, x) => n + f(x), 0);
  const b429 = sum((x) => (x.nice.b.statuses['429'] ?? 0) + (x.full.b.statuses['429'] ?? 0));
  const a429 = sum((x) => x.nice.a.statuses['429'] ?? 0);
  const row = (step: string, r: JobResult) =>
    `| ${step} | ${r.sent} | ${f1(r.rps)} | ${f2(r.p50)} | ${f2(r.p99)} | ${statuses(r)} |`;
  return [
    `### (c) noisy neighbour — ${t.label}`,
    '',
    `Capacity ${f1(t.capacity)} req/s (median peak of (a) for ${t.label} with the default batch window, or --capacity / a short closed loop). A: open loop at 3× capacity (${Math.round(t.capacity * 3)} req/s offered, 64 connections), its quota ${aQuota} requests/s (token buckets, burst 1 s). B: open loop at 5% (${bRate} req/s, 4 connections). Each from a generator process of its own; A's at nice 19 for the verdict, at normal priority for reference (its generator then takes CPU time from the server and B's generator on this machine's shared cores). ${rounds} rounds of: B alone, B with A's flood (nice 19), B with A's flood (normal priority); ${o.durationMs / 1000} s measured after 1 s warm-up each. A's latency is mostly its own generator's queue (3× capacity offered on 64 connections); its answered req/s counts only answers within the measured window.`,
    '',
    '| step | sent | answered req/s | p50 (ms) | p99 (ms) | statuses |',
    '|---|---|---|---|---|---|',
    ...readings.flatMap((x, i) => [
      row(`B alone #${i + 1}`, x.alone),
      row(`B with A flooding (A at nice 19) #${i + 1} — ${f2(x.nice.b.p99 / x.alone.p99)}×`, x.nice.b),
      row(`A flooding (nice 19) #${i + 1}`, x.nice.a),
      row(
        `B with A flooding (A at normal priority) #${i + 1} — ${f2(x.full.b.p99 / x.alone.p99)}×`,
        x.full.b,
      ),
      row(`A flooding (normal priority) #${i + 1}`, x.full.a),
    ]),
    '',
    `- B's p99 within 2× alone: median of the rounds' ratios ${f2(ratioNice)}× (${readings.map((x) => f2(x.nice.b.p99 / x.alone.p99)).join(', ')}) → ${ratioNice <= 2 ? 'met' : 'MISSED'} (with A's generator at normal priority: ${f2(ratioFull)}×)`,
    `- B gets no 429: ${b429} → ${b429 === 0 ? 'met' : 'MISSED'}; A does: ${a429} → ${a429 > 0 ? 'met' : 'MISSED'}`,
    '',
  ];
}

/** (m) the cost of metering: the same predict server with TENANTML_METERING on and off, in alternation. */
async function partM(lg: LoadGen, o: Opts, rounds: number, out: string[]): Promise<void> {
  const r = await meteringCost(lg, { ...o, rounds }, trainBenchModel(100, 6));
  const row = (x: JobResult) => `| ${x.name} | ${f1(x.rps)} | ${f2(x.p50)} | ${f2(x.p99)} | ${statuses(x)} |`;
  const interleaved: JobResult[] = [];
  for (let i = 0; i < r.rounds; i++) {
    const pair = i % 2 === 0 ? [r.on[i], r.off[i]] : [r.off[i], r.on[i]];
    interleaved.push(...pair);
  }
  const met = r.cost <= 0.05;
  out.push(
    '### (m) the cost of metering on the predict path',
    '',
    `Single-row predicts on a 100-tree depth-6 model, closed loop, ${o.connections} connections, ${o.durationMs / 1000} s measured after 1 s warm-up per step; two servers alike but for TENANTML_METERING, measured in alternation (${r.rounds} rounds, the first of each round swapped every round); the medians compared.`,
    '',
    '| step | req/s | p50 (ms) | p99 (ms) | statuses |',
    '|---|---|---|---|---|',
    ...interleaved.map(row),
    '',
    `- median req/s: metering on ${f1(r.medianOn)}, off ${f1(r.medianOff)}; cost ${pct(r.cost)} of throughput (target ≤ 5%) → ${met ? 'met' : 'MISSED'}`,
    `- the metered server answered ${r.answeredOn} predictions (warm-up included) and metered ${r.meteredRows} predicted rows → ${r.meteredRows === r.answeredOn ? 'every one counted' : 'MISMATCH'}`,
    '',
  );
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(USAGE);
    return;
  }
  if (args.includes('--engine')) {
    const engine = args[args.indexOf('--engine') + 1];
    if (engine !== 'auto' && engine !== 'onnxruntime') {
      console.error(`--engine must be auto or onnxruntime (got ${JSON.stringify(engine)})\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    // Every server the steps start reads TENANTML_* from this environment (settingsFromEnvironment).
    process.env.TENANTML_INFERENCE_ENGINE = engine;
  }
  const only = (args[args.indexOf('--only') + 1] ?? '').split(',');
  const want = (p: string) => !args.includes('--only') || only.includes(p);
  const o: Opts = {
    durationMs: numberOption(args, '--duration', 8, USAGE) * 1000,
    connections: numberOption(args, '--connections', 16, USAGE),
  };
  const started = new Date().toISOString();
  const la = loadavg().map((x) => x.toFixed(2));
  const out: string[] = [
    `## serve — ${started}`,
    '',
    `Command: \`${Object.entries(settingsFromEnvironment())
      .map(([k, v]) => `${k}=${v} `)
      .join(
        '',
      )}npm run bench -- serve ${args.join(' ')}\`. Machine: ${machineParts().join(', ')}. Load average (1/5/15 min) at start: ${la.join(', ')}. Inference engine: ${process.env.TENANTML_INFERENCE_ENGINE || 'auto'}.`,
    '',
  ];
  const processes = numberOption(args, '--processes', availableParallelism(), USAGE);
  if (!Number.isInteger(processes) || processes < 1)
    throw new Error(`--processes needs a whole number ≥ 1\n${USAGE}`);
  const rounds = numberOption(args, '--rounds', 3, USAGE);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a whole number ≥ 1\n${USAGE}`);
  const lg = new LoadGen();
  try {
    const given = numberOption(args, '--capacity', 0, USAGE);
    let peaks: { single: number; pool?: number } = { single: given, pool: given || undefined };
    if (want('a')) peaks = await partA(lg, o, rounds, processes, out);
    if (want('b')) await partB(lg, o, args, out);
    if (want('c')) {
      const short = { ...o, durationMs: 3000 };
      const trained = trainBenchModel(100, 6);
      if (!peaks.single) peaks.single = (await predictPeak(lg, short, defaultWindowMs(), trained)).peak.rps;
      if (processes > 1 && !peaks.pool) {
        const p = await predictPool(processes, {}, 'bench-c-peak', trained);
        try {
          peaks.pool = (await closedPeak(lg, p.pool.port, { ...p.job, name: 'pool peak' }, short)).rps;
        } finally {
          await p.close();
        }
      }
      const targets: NoisyTarget[] = [{ label: 'one process', capacity: peaks.single, suffix: '' }];
      if (processes > 1 && peaks.pool)
        targets.push({
          label: `serving pool of ${processes} API processes`,
          capacity: peaks.pool,
          suffix: '-pool',
        });
      await partC(o, targets, processes, rounds, out);
    }
    if (want('m')) await partM(lg, o, rounds, out);
  } finally {
    lg.close();
  }
  out.push(
    `Load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}.`,
    '',
    '',
  );
  const text = out.join('\n');
  console.log(text);
  if (args.includes('--record')) appendFileSync(join(here, 'RESULTS.md'), `\n${text}`);
}
