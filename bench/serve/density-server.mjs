// The density step's measured server: plain JavaScript from the build (dist/, scripts/build.mjs), no
// tsx — what `npm start` serves — on a data folder whose 2,000 tenants and models density-setup.ts wrote
// (so the measured process is a server started on them, as after a restart). The platform starts from
// this process's environment; the bench asks over IPC (density-client.ts): requests through the app, the
// cache's stats, memory and threads, a heap snapshot, close. Bench-only.
import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../dist/core/config.js';
import { startPlatform } from '../../dist/platform.js';

const running = await startPlatform(loadConfig(process.env, process.env.TENANTML_DATA_DIR));
const { platform } = running;
const cache = platform.services.inference.cache;
const auth = { authorization: `Bearer ${platform.adminKey}` };
const body = JSON.stringify({ instances: [JSON.parse(process.env.DENSITY_INSTANCE)] });

function stats() {
  const engines = {};
  for (const m of cache.values()) engines[m.engine] = (engines[m.engine] ?? 0) + 1;
  const threads = Number(/Threads:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  const { hits, misses, loads, recentLoadMs } = cache.stats;
  return {
    hits,
    misses,
    loads,
    recentLoadMs,
    size: cache.size,
    bytes: cache.bytes,
    engines,
    memory: process.memoryUsage(),
    threads,
  };
}

async function answer(req) {
  switch (req.type) {
    case 'predict':
      for (const i of req.tenants) {
        const r = await platform.app.inject({
          method: 'POST',
          url: '/v1/models/m/predict',
          headers: { ...auth, 'x-tenant-id': `d${i}`, 'content-type': 'application/json' },
          payload: body,
        });
        if (r.statusCode !== 200) throw new Error(`predict d${i}: ${r.statusCode} ${r.body}`);
      }
      return { type: 'done' };
    case 'stats':
      return { type: 'stats', stats: stats() };
    case 'snapshot':
      return { type: 'snapshot', file: writeHeapSnapshot(req.file) };
    case 'close':
      await running.close();
      return { type: 'done' };
    default:
      throw new Error(`the measured server does not do ${req.type}`);
  }
}

process.on('message', (req) => {
  answer(req).then(
    (reply) => {
      process.send(reply);
      if (req.type === 'close') process.disconnect();
    },
    (err) => process.send({ type: 'error', message: String(err?.stack ?? err) }),
  );
});
process.send({ type: 'ready', port: Number(new URL(running.url).port), adminKey: platform.adminKey });
