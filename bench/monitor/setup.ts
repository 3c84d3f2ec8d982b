// Fills a data folder for the monitoring bench: tenants, one live version per tenant model with its
// reference profile, and each model's prediction log written directly as the prediction log writes it
// (encrypted NDJSON batches under predictions/<model>/<day>/<stamp>-<rand>.ndjson), plus some feedback.
import { mintTenantScope, OPERATOR, SYSTEM } from '../../src/core/scope.ts';
import { createRng } from '../../src/ml/rng.ts';
import { instance, openPlatform, output, profile } from './world.ts';

export interface SetupOptions {
  dataDir: string;
  databaseUrl?: string;
  tenants: number;
  modelsPerTenant: number;
  predictionsPerModel: number;
  batchesPerModel: number;
  /** Labels sent per model (matched in the cycle). */
  feedbackPerModel: number;
  /** Share of models whose last batch has a shifted feature (they raise a drift alert). */
  driftShare: number;
  /** The first prediction's hour (ISO); batches follow hour by hour. */
  start: string;
  log(line: string): void;
}

const HOUR = 3_600_000;
const stampOf = (ms: number): string => new Date(ms).toISOString().replace(/[-:.]/g, '');

export async function setup(o: SetupOptions): Promise<{ bytes: number; batches: number }> {
  const p = await openPlatform(o.dataDir, o.databaseUrl);
  const { store, services } = p;
  const ref = Buffer.from(JSON.stringify(profile(5000, 1)));
  // A pool of instance/output JSON fragments (generating 10 M distinct objects would time the setup,
  // not monitoring); ids, times and models differ per record.
  const rng = createRng(2);
  const pool = (shift: number) =>
    Array.from({ length: 4096 }, () => {
      const x = instance(rng, shift);
      return `"features":${JSON.stringify(x)},"output":${JSON.stringify(output(x))}`;
    });
  const normal = pool(0);
  const shifted = pool(1.5);
  const perBatch = Math.ceil(o.predictionsPerModel / o.batchesPerModel);
  const t0 = Date.parse(o.start);
  let bytes = 0;
  let batches = 0;
  let k = 0;
  const started = performance.now();
  for (let t = 0; t < o.tenants; t++) {
    const tenantId = `bench-${t}`;
    await services.tenants.create({ id: tenantId, name: `Bench ${t}` }, OPERATOR);
    const scope = mintTenantScope(tenantId, SYSTEM);
    for (let m = 0; m < o.modelsPerTenant; m++) {
      const model = `model-${m}`;
      const artifact = `models/${model}/v1`;
      await store.models.register(scope, {
        model,
        mode: 'tenant',
        task: 'binary',
        algorithm: 'gbdt',
        params: {},
        metrics: { accuracy: 0.86, auc: 0.91 },
        datasets: [{ tenantId, name: 'customers', version: 1, rows: 5000 }],
        artifact,
        checksum: `${tenantId}-${model}`.padEnd(64, '0').slice(0, 64),
        jobId: null,
        base: null,
        createdAt: new Date(t0 - HOUR).toISOString(),
        createdBy: 'bench',
      });
      await services.artifacts.put(scope, `${artifact}/profile.json`, ref);
      const drifting = rng.next() < o.driftShare;
      const labelled: { id: string; label: string }[] = [];
      const writes: Promise<number>[] = [];
      for (let b = 0; b < o.batchesPerModel; b++) {
        const hour = t0 + b * HOUR;
        const src = drifting && b === o.batchesPerModel - 1 ? shifted : normal;
        const lines: string[] = [];
        const n = Math.min(perBatch, o.predictionsPerModel - b * perBatch);
        for (let i = 0; i < n; i++) {
          const at = hour + Math.floor((i / n) * (HOUR - 60_000));
          const requestId = `req_${at.toString(36)}-bench${(k++).toString(36)}`;
          const id = `${requestId}.0`;
          lines.push(
            `{"id":"${id}","requestId":"${requestId}","at":"${new Date(at).toISOString()}","model":"${model}","version":1,"mode":"tenant","namespace":"${tenantId}",${src[(k * 7919) & 4095]},"latencyMs":2}`,
          );
          if (
            labelled.length < o.feedbackPerModel &&
            i % Math.max(1, Math.floor(o.predictionsPerModel / o.feedbackPerModel)) === 0
          )
            labelled.push({ id, label: rng.next() < 0.85 ? 'no' : 'yes' });
        }
        const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
        bytes += body.length;
        batches++;
        const day = new Date(hour).toISOString().slice(0, 10);
        const key = `predictions/${model}/${day}/${stampOf(hour + HOUR - 30_000)}-${(k & 0xffffffff).toString(16).padStart(8, '0')}.ndjson`;
        writes.push(services.artifacts.put(scope, key, body));
      }
      await Promise.all(writes);
      if (labelled.length > 0)
        await store.monitor.addFeedback(
          scope,
          labelled.map((l) => ({
            model,
            predictionId: l.id,
            label: l.label,
            receivedAt: new Date(t0 + o.batchesPerModel * HOUR).toISOString(),
          })),
        );
    }
    if ((t + 1) % 50 === 0 || t + 1 === o.tenants)
      o.log(
        `  setup: ${t + 1}/${o.tenants} tenants, ${batches} batches, ${(bytes / 1e6).toFixed(0)} MB, ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
  }
  await p.close();
  return { bytes, batches };
}
