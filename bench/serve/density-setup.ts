// The density step's setup: the platform from this process's environment (through tsx, as the bench's
// rig writes models), then over IPC the 2,000 tenants created through its API and a model registered in
// each the way a finished training job writes it (rig.ts registerModel); then it closes. The measured
// server (density-server.mjs, from the build) starts afterwards on the same data folder. Bench-only; see
// density-client.ts.
import { loadConfig } from '../../src/core/config.ts';
import type { TrainedModel } from '../../src/ml/train.ts';
import { startPlatform } from '../../src/platform.ts';
import type { DensityReply, DensityRequest } from './density-client.ts';
import { BIG_QUOTAS, registerModel, type Served } from './rig.ts';

const running = await startPlatform(loadConfig(process.env, process.env.TENANTML_DATA_DIR as string));
const s: Served = {
  platform: running.platform,
  url: running.url,
  port: Number(new URL(running.url).port),
  adminKey: running.platform.adminKey,
  close: () => running.close(),
};

async function setup(n: number, trained: TrainedModel): Promise<void> {
  const auth = { authorization: `Bearer ${s.adminKey}` };
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
  if (req.type === 'setup') {
    await setup(req.n, req.trained);
    return { type: 'done' };
  }
  if (req.type === 'close') {
    await s.close();
    return { type: 'done' };
  }
  throw new Error(`the setup process does not do ${req.type}`);
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
