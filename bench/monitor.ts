// `npm run bench -- monitor [flags]`: one monitoring cycle over many tenant models (issue 7's target: 1,000
// models × 10,000 logged predictions each in under 60 s and 1 GB). The setup writes tenants, live
// versions with reference profiles, encrypted prediction-log batches and feedback into a fresh data
// folder; a separate process then runs the cycle, so that its time and peak RSS are the cycle's own.

import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineParts, numberOption } from './common.ts';
import { setup } from './monitor/setup.ts';

const here = dirname(fileURLToPath(import.meta.url));

const USAGE = `npm run bench -- monitor [flags]
  --tenants N        tenants (default 250)
  --models N         models per tenant (default 4; 250 × 4 = 1,000 tenant models)
  --predictions N    logged predictions per model (default 10000)
  --batches N        log batches per model, one per hour (default 10)
  --feedback N       labels per model, matched in the cycle (default 100)
  --drift-share X    share of models whose last hour is shifted (default 0.1)
  --concurrency N    models processed at once in the cycle (default 4)
  --shards N         cycle processes run at once, each on its shard of the models (default 1)
  --data DIR         reuse a prepared data folder (no setup; kept; its monitoring state is reset)
  --keep             keep the data folder
  --record           append the result to bench/RESULTS.md`;

function runCycle(
  dataDir: string,
  concurrency: number,
  shard: number,
  shards: number,
): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(here, 'monitor', 'cycle.ts'),
        dataDir,
        '',
        String(concurrency),
        String(shard),
        String(shards),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`cycle process exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() as string));
    });
  });
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const tenants = numberOption(args, '--tenants', 250, USAGE);
  const models = numberOption(args, '--models', 4, USAGE);
  const predictions = numberOption(args, '--predictions', 10_000, USAGE);
  const batches = numberOption(args, '--batches', 10, USAGE);
  const feedback = numberOption(args, '--feedback', 100, USAGE);
  const driftShare = numberOption(args, '--drift-share', 0.1, USAGE);
  const concurrency = numberOption(args, '--concurrency', 4, USAGE);
  const shards = Math.max(1, numberOption(args, '--shards', 1, USAGE));
  const dataArg = args.indexOf('--data');
  const reuse = dataArg >= 0 ? args[dataArg + 1] : null;
  const dataDir = reuse ?? mkdtempSync(join(tmpdir(), 'tenantml-bench-monitor-'));
  const log = (s: string) => console.log(s);

  let setupNote = 'reused';
  if (reuse) {
    // A reused folder starts from an unread log again: no windows, no cursors, every label pending.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(reuse, 'tenantml.db'));
    db.exec(
      "DELETE FROM monitor_windows; DELETE FROM monitor_cursors; UPDATE monitor_feedback SET state = 'pending'",
    );
    db.close();
    setupNote = 'the same data folder, monitoring state reset';
  }
  if (!reuse) {
    // Whole hours ending two hours ago: every batch is older than the cycle's settle time.
    const start = new Date(Date.now() - (batches + 2) * 3_600_000);
    start.setUTCMinutes(0, 0, 0);
    log(
      `setup: ${tenants} tenants × ${models} models × ${predictions} predictions in ${batches} batches → ${dataDir}`,
    );
    const t = performance.now();
    const s = await setup({
      dataDir,
      tenants,
      modelsPerTenant: models,
      predictionsPerModel: predictions,
      batchesPerModel: batches,
      feedbackPerModel: feedback,
      driftShare,
      start: start.toISOString(),
      log,
    });
    setupNote = `${s.batches} batches, ${(s.bytes / 1e9).toFixed(2)} GB of NDJSON (before encryption), written in ${((performance.now() - t) / 1000).toFixed(0)} s`;
    log(`setup done: ${setupNote}`);
  }
  const load = loadavg()[0].toFixed(1);
  log(
    `cycle (${shards} process${shards > 1 ? 'es' : ''}, concurrency ${concurrency}, load average ${load})…`,
  );
  const wall = performance.now();
  const runs = await Promise.all(
    Array.from({ length: shards }, (_, i) => runCycle(dataDir, concurrency, i, shards)),
  );
  const wallMs = performance.now() - wall;
  const sum = (k: string, which: 'first' | 'second' = 'first') => runs.reduce((a, r) => a + r[which][k], 0);
  const f = {
    models: sum('models'),
    batches: sum('batches'),
    records: sum('records'),
    windows: sum('windows'),
    alerts: sum('alerts'),
    feedbackMatched: sum('feedbackMatched'),
    errors: sum('errors'),
    ms: Math.max(...runs.map((r) => r.first.ms)),
  };
  const r = {
    peakRssMb: runs.reduce((a, x) => a + x.peakRssMb, 0),
    rssBeforeMb: runs.reduce((a, x) => a + x.rssBeforeMb, 0),
    peakHeapMb: runs.reduce((a, x) => a + x.peakHeapMb, 0),
    second: { ms: Math.max(...runs.map((x) => x.second.ms)), batches: sum('batches', 'second') },
  };
  const perRecordUs = f.records > 0 ? ((f.ms * 1000) / f.records).toFixed(2) : '—';
  const lines = [
    `models ${f.models}, batches ${f.batches}, records ${f.records}, windows ${f.windows}, alerts ${f.alerts}, feedback matched ${f.feedbackMatched}, errors ${f.errors}`,
    `first cycle: ${(f.ms / 1000).toFixed(1)} s (${perRecordUs} µs per record of wall time; ${(wallMs / 1000).toFixed(1)} s with process start); peak RSS ${r.peakRssMb} MB${shards > 1 ? ` summed over ${shards} processes` : ''} (${r.rssBeforeMb} MB before the cycle), peak heap ${r.peakHeapMb} MB`,
    `second cycle (nothing new): ${(r.second.ms / 1000).toFixed(1)} s, ${r.second.batches} batches`,
    `target: < 60 s and < 1024 MB → ${f.ms < 60_000 && r.peakRssMb < 1024 ? 'MET' : 'MISSED'}`,
  ];
  for (const l of lines) log(l);
  if (args.includes('--record')) {
    let commit = 'unknown';
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      // not a git checkout
    }
    const cmd = `npm run bench -- monitor ${args.filter((a) => a !== '--record').join(' ')}`.trim();
    appendFileSync(
      join(here, 'RESULTS.md'),
      [
        '',
        `## monitor — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (commit ${commit})`,
        '',
        `Command: \`nice ${cmd} --record\`. Machine: ${machineParts({ memory: true }).join(', ')}; load average ${load} when the cycle started.`,
        `Data: ${tenants} tenants × ${models} models, ${predictions} predictions per model (8 features: 5 numeric, 2 categorical, 1 boolean), ${feedback} labels per model, ${Math.round(driftShare * 100)}% of models shifted in their last hour; ${setupNote}. SQLite, filesystem artifacts.`,
        '',
        ...lines.map((l) => `- ${l}`),
        '',
      ].join('\n'),
    );
  }
  if (!reuse && !args.includes('--keep')) rmSync(dataDir, { recursive: true, force: true });
  else log(`data kept in ${dataDir}`);
}
