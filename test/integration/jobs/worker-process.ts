// A worker supervisor in its own OS process, for tests that must SIGKILL a worker:
//   node --import tsx test/integration/jobs/worker-process.ts <store url> <data dir> [--die-after-register]
// It reads the master key from <data dir>/master.key (as the platform does), runs one slot with test
// hooks on and a 2 s lease, and prints each supervisor event as a JSON line on standard output.
// --die-after-register SIGKILLs this process right after the model version was registered, before the
// job is finished: the crash that exactly-once registration must survive.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMasterKey } from '../../../src/core/config.ts';
import { startWorkers } from '../../../src/jobs/supervisor.ts';
import { TenantArtifacts } from '../../../src/services/artifacts.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { FsBlobStore } from '../../../src/store/artifacts/fs.ts';
import type { ModelRepo } from '../../../src/store/ports.ts';
import { openStore } from '../../../src/store/sql/index.ts';

const [url, dataDir, ...flags] = process.argv.slice(2);
if (!url || !dataDir) {
  process.stderr.write('usage: worker-process.ts <store url> <data dir> [--die-after-register]\n');
  process.exit(2);
}
const masterKey = parseMasterKey(readFileSync(join(dataDir, 'master.key'), 'utf8'));
if (!masterKey) throw new Error('no master key');
const store = await openStore({ url });
const root = join(dataDir, 'artifacts');
const keyring = new KeyRing(masterKey, store.tenants);
const models: ModelRepo = flags.includes('--die-after-register')
  ? {
      ...store.models,
      register: async (scope, v) => {
        const out = await store.models.register(scope, v);
        process.stdout.write(`${JSON.stringify({ type: 'registered', jobId: v.jobId })}\n`);
        process.kill(process.pid, 'SIGKILL');
        return out;
      },
    }
  : store.models;
await startWorkers(
  {
    store: { jobs: store.jobs, datasets: store.datasets, tenants: store.tenants, models },
    artifacts: new TenantArtifacts(new FsBlobStore(root), keyring),
    keyring,
    blobs: { kind: 'fs', root },
  },
  {
    slots: 1,
    pollMs: 100,
    heartbeatMs: 200,
    leaseMs: 2000,
    requeueEveryMs: 500,
    testHooks: true,
    workerId: `worker-process-${process.pid}`,
    onEvent: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
  },
);
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
