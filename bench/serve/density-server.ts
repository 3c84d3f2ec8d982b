// The density step's server in a process of its own, started like `npm start` (node --import tsx): the
// platform from this process's environment, then requests from the bench over IPC — the 2,000-tenant
// setup, the calibration's cold loads, readings (cache stats, RSS, memory, threads) and a heap snapshot —
// so that the RSS the bench reads is the serving process's alone. Bench-only; see density-client.ts.
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../src/core/config.ts';
import type { TrainedModel } from '../../src/ml/train.ts';
import { startPlatform } from '../../src/platform.ts';
import type { DensityReply, DensityRequest, DensityStats } from './density-client.ts';
import { BIG_QUOTAS, instance, registerModel, type Served, threads } from './rig.ts';

const dataDir = process.env.TENANTML_DATA_DIR as string;
const running = await startPlatform(loadConfig(process.env, dataDir));
const s: Served = {
  platform: running.platform,
  url: running.url,
  port: Number(new URL(running.url).port),
  adminKey: running.platform.adminKey,
  close: () => running.close(),
};
const cache = s.platform.services.inference.cache;
const auth = { authorization: `Bearer ${s.adminKey}` };
const body = JSON.stringify({ instances: [instance(3)] });

function stats(): DensityStats {
  const engines: Record<string, number> = {};
  for (const m of cache.values()) engines[m.engine] = (engines[m.engine] ?? 0) + 1;
  return {
    hits: cache.stats.hits,
    misses: cache.stats.misses,
    loads: cache.stats.loads,
    recentLoadMs: cache.stats.recentLoadMs,
    size: cache.size,
    bytes: cache.bytes,
    engines,
    memory: process.memoryUsage(),
    threads: threads(),
  };
}

async function predictOne(i: number): Promise<void> {
  const r = await s.platform.app.inject({
    method: 'POST',
    url: '/v1/models/m/predict',
    headers: { ...auth, 'x-tenant-id': `d${i}`, 'content-type': 'application/json' },
    payload: body,
  });
  if (r.statusCode !== 200) throw new Error(`predict d${i}: ${r.statusCode} ${r.body}`);
}

async function setup(n: number, trained: TrainedModel): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `d${i}`;
    const t = await s.platform.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: auth,
      payload: { id, name: id, tier: 'premium', quotaOverrides: BIG_QUOTAS },
    });
    if (t.statusCode !== 201) throw new Error(`tenant ${id}: ${t.statusCode} ${t.body}`);
    await registerModel(s, id, 'm', trained);
  }
}

async function answer(req: DensityRequest): Promise<DensityReply> {
  switch (req.type) {
    case 'setup':
      await setup(req.n, req.trained);
      return { type: 'done' };
    case 'predict':
      for (const i of req.tenants) await predictOne(i);
      return { type: 'done' };
    case 'stats':
      return { type: 'stats', stats: stats() };
    case 'snapshot':
      (globalThis as { gc?: () => void }).gc?.();
      return { type: 'snapshot', file: writeHeapSnapshot(req.file) };
    case 'close':
      await s.close();
      return { type: 'done' };
  }
}

process.on('message', (req: DensityRequest) => {
  answer(req).then(
    (reply) => {
      process.send?.(reply);
      if (req.type === 'close') process.disconnect();
    },
    (err: Error) => process.send?.({ type: 'error', message: err.stack ?? String(err) }),
  );
});
process.send?.({ type: 'ready', port: s.port, adminKey: s.adminKey } satisfies DensityReply);
