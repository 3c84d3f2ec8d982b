// A serve-benchmark server in a process of its own, as production runs it: plain JavaScript from the
// build (dist/, `npm run build`), no tsx — what `npm start` serves. The platform starts from this
// process's environment; the bench then asks over IPC (server-process.ts is the other side): create a
// tenant, register a trained model the way a finished training job writes it, send a request through
// the app, read metrics, cache stats and memory, write a heap snapshot, close. Bench-only.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../dist/core/config.js';
import { mintTenantScope, SYSTEM } from '../../dist/core/scope.js';
import { startPlatform } from '../../dist/platform.js';
import { limitHeapGrowth } from '../../dist/runtime/heap.js';

const config = loadConfig(process.env, process.env.TENANTML_DATA_DIR);
limitHeapGrowth(config.heapGrowingPercent); // as `tenantml start` does
const running = await startPlatform(config);
const { platform } = running;
const admin = { authorization: `Bearer ${platform.adminKey}` };
let profiler;

async function inject(req) {
  const r = await platform.app.inject(req);
  return { status: r.statusCode, body: r.body };
}

/** A premium tenant with these quota overrides, through the API. */
async function createTenant(id, quotaOverrides) {
  const t = await inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: admin,
    payload: { id, name: id, tier: 'premium', quotaOverrides },
  });
  if (t.status !== 201) throw new Error(`tenant ${id}: ${t.status} ${t.body}`);
}

const ops = {
  async tenant({ id, quotaOverrides }) {
    await createTenant(id, quotaOverrides);
    const k = await inject({
      method: 'POST',
      url: `/v1/tenants/${id}/keys`,
      headers: admin,
      payload: { role: 'predict' },
    });
    if (k.status !== 201) throw new Error(`key of ${id}: ${k.status} ${k.body}`);
    return JSON.parse(k.body).key;
  },
  /**
   * Tenants `<prefix>0` … `<prefix><n-1>`, each with these quota overrides and the same trained model
   * registered as `model` (each encrypted with its own tenant's key); no keys made.
   */
  async setupTenants({ prefix, n, quotaOverrides, model, trained }) {
    for (let i = 0; i < n; i++) {
      const id = `${prefix}${i}`;
      await createTenant(id, quotaOverrides);
      await ops.register({ tenantId: id, model, ...trained });
    }
  },
  async register({ tenantId, model, onnx, featurizer, modelJson }) {
    const scope = mintTenantScope(tenantId, SYSTEM);
    const bytes = Buffer.from(onnx);
    const prefix = `models/${model}/bench`;
    const art = platform.services.artifacts;
    await art.put(scope, `${prefix}/model.onnx`, bytes);
    await art.put(scope, `${prefix}/featurizer.json`, Buffer.from(JSON.stringify(featurizer)));
    await art.put(scope, `${prefix}/model.json`, Buffer.from(JSON.stringify(modelJson)));
    await platform.store.models.register(scope, {
      model,
      mode: 'tenant',
      task: modelJson.task,
      algorithm: modelJson.algorithm,
      params: modelJson.params,
      metrics: {},
      datasets: [],
      artifact: prefix,
      checksum: createHash('sha256').update(bytes).digest('hex'),
      jobId: null,
      base: null,
      createdAt: new Date().toISOString(),
      createdBy: 'bench',
    });
  },
  inject,
  /** The sum of a platform metric's series (every label set). */
  metricSum({ name }) {
    const metric = platform.services.metrics.registry.getSingleMetric(name);
    return Object.values(metric?.hashMap ?? {}).reduce((a, v) => a + v.value, 0);
  },
  cache() {
    const cache = platform.services.inference.cache;
    const engines = {};
    for (const m of cache.values()) engines[m.engine] = (engines[m.engine] ?? 0) + 1;
    const { hits, misses, loads, recentLoadMs } = cache.stats;
    return { hits, misses, loads, recentLoadMs, size: cache.size, bytes: cache.bytes, engines };
  },
  /** Predicted rows the store holds for a tenant, after the meter's buffer is written. */
  async meteredRows({ tenantId }) {
    await platform.meter.flush();
    const sums = await platform.store.usage.sums(mintTenantScope(tenantId, SYSTEM), {
      from: '2000-01-01T00:00:00.000Z',
      to: '2100-01-01T00:00:00.000Z',
      granularity: 'month',
    });
    return sums.filter((x) => x.kind === 'predicted_rows').reduce((a, x) => a + x.quantity, 0);
  },
  memory() {
    const threads = Number(/Threads:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
    return { ...process.memoryUsage(), threads };
  },
  gc() {
    globalThis.gc?.();
    return typeof globalThis.gc === 'function';
  },
  /** CPU profile of this process (the inspector's sampling profiler) from now until profileStop. */
  async profileStart({ intervalUs = 100 }) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await profiler.post('Profiler.start');
  },
  async profileStop({ path }) {
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    writeFileSync(path, JSON.stringify(profile));
    return path;
  },
  /**
   * Allocation profile (the inspector's sampling heap profiler, collected objects included: what is
   * allocated, not what stays) from now until allocationStop.
   */
  async allocationStart({ intervalBytes = 32_768 }) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('HeapProfiler.enable');
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  },
  async allocationStop({ path }) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    profiler.disconnect();
    writeFileSync(path, JSON.stringify(profile));
    return path;
  },
  heapSnapshot({ path }) {
    return writeHeapSnapshot(path);
  },
  async close() {
    await running.close();
    setImmediate(() => process.exit(0));
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    const value = await ops[op](args ?? {});
    process.send({ id, ok: true, value });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.stack ?? err) });
  }
});
process.send({ ready: true, port: Number(new URL(running.url).port), adminKey: platform.adminKey });
