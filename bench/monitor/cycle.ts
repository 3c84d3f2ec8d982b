// The measured process of the monitoring bench: opens the platform over the prepared data folder, runs
// one monitoring cycle (then a second one with nothing new), and prints one JSON line with the stats,
// the wall time and this process's peak RSS. A process of its own, so that the peak is the cycle's.
import { dailyLogReader } from '../../src/services/monitoring/log-keys.ts';
import { MonitoringService } from '../../src/services/monitoring/service.ts';
import { openPlatform } from './world.ts';

const [dataDir, databaseUrl, concurrencyRaw, shardRaw, shardsRaw] = process.argv.slice(2);
const shard = { index: Number(shardRaw) || 0, count: Number(shardsRaw) || 1 };
const p = await openPlatform(dataDir, databaseUrl || undefined);
const rssBefore = process.memoryUsage().rss;
const monitoring = new MonitoringService({
  store: p.store,
  log: dailyLogReader(p.services.inference.predictionLog, p.blobs),
  artifacts: p.services.artifacts,
  training: p.services.training,
  alerts: p.services.webhooks,
  audit: p.services.audit,
  clock: { now: () => new Date() },
  settings: {
    granularity: p.config.monitorGranularity,
    minRows: p.config.monitorMinRows,
    driftShare: p.config.monitorDriftShare,
    feedbackHorizonHours: p.config.feedbackHorizonHours,
  },
  concurrency: Number(concurrencyRaw) || 4,
  onError: (err) => console.error(err),
});
let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 200);
const first = await monitoring.cycle({ shard });
const second = await monitoring.cycle({ shard });
clearInterval(sampler);
const windows = await p.store.monitor.windows(
  (await import('../../src/core/scope.ts')).mintTenantScope('bench-0', { keyId: 'system', role: 'system' }),
  'model-0',
  { limit: 1 },
);
process.stdout.write(
  `${JSON.stringify({
    first,
    second,
    rssBeforeMb: Math.round(rssBefore / 1048576),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMb: Math.round(peakHeap / 1048576),
    sampleWindow: windows[0]
      ? {
          start: windows[0].start,
          rows: windows[0].rows,
          status: (windows[0].report as { status?: string })?.status,
        }
      : null,
  })}\n`,
);
await p.close();
