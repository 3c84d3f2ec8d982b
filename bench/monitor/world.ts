// The bench's world: a platform over a data folder (SQLite, filesystem artifacts) with fixed keys, so that
// the setup process and the measured cycle process open the same tenants, models and prediction log.
import { loadConfig } from '../../src/core/config.ts';
import type { ReferenceProfile } from '../../src/ml/drift/profile.ts';
import { buildProfile } from '../../src/ml/drift/profile.ts';
import { frameFromColumns } from '../../src/ml/frame.ts';
import { createRng, type Rng } from '../../src/ml/rng.ts';
import { createPlatform, type Platform } from '../../src/platform.ts';

const MASTER_KEY = '6d6f6e69746f722d62656e63682d6d61737465722d6b65792d33322d62797465';
const ADMIN_KEY = 'bench-monitor-operator-key-0123456789abcdef';

export function openPlatform(dataDir: string, databaseUrl?: string): Promise<Platform> {
  const config = loadConfig(
    {
      TENANTML_DATA_DIR: dataDir,
      TENANTML_LOG_LEVEL: 'silent',
      TENANTML_WORKER_SLOTS: '0',
      TENANTML_MASTER_KEY: MASTER_KEY,
      TENANTML_ADMIN_KEY: ADMIN_KEY,
      TENANTML_PREDICTION_LOG_SAMPLE_RATE: '0',
      ...(databaseUrl ? { TENANTML_DATABASE_URL: databaseUrl } : {}),
    },
    dataDir,
  );
  return createPlatform(config);
}

/** A realistic instance: five numbers, two categories, a flag (what a churn or lead-scoring model sees). */
export interface Instance {
  tenure_months: number;
  monthly_spend: number;
  logins_30d: number;
  support_tickets: number;
  discount_pct: number;
  plan: string;
  region: string;
  auto_renew: boolean;
}

const PLANS = ['basic', 'pro', 'team', 'enterprise'];
const REGIONS = ['eu-west', 'eu-central', 'us-east', 'us-west', 'apac', 'latam'];

function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** `shift` moves four of the eight features (half: a dataset drift at the default share). */
export function instance(rng: Rng, shift = 0): Instance {
  return {
    tenure_months: Math.max(0, Math.round(24 + 18 * normal(rng) + shift * 18)),
    monthly_spend: Math.round(Math.exp(4 + 0.6 * normal(rng) + shift * 0.3) * 100) / 100,
    logins_30d: Math.max(0, Math.round(12 + 6 * normal(rng) - shift * 4)),
    support_tickets: Math.floor(-Math.log(1 - rng.next()) * 0.8),
    discount_pct: Math.round(rng.next() * 30 + shift * 5),
    plan: PLANS[Math.min(3, Math.floor(-Math.log(1 - rng.next()) * 1.2))],
    region: REGIONS[rng.int(REGIONS.length)],
    auto_renew: rng.next() < 0.7,
  };
}

export function output(x: Instance): { label: string; probabilities: Record<string, number> } {
  const z = -1 + 0.04 * (24 - x.tenure_months) + 0.3 * x.support_tickets - (x.auto_renew ? 0.8 : 0);
  const p = 1 / (1 + Math.exp(-z));
  return { label: p >= 0.5 ? 'yes' : 'no', probabilities: { no: 1 - p, yes: p } };
}

export function profile(n: number, seed: number): ReferenceProfile {
  const rng = createRng(seed);
  const rows = Array.from({ length: n }, () => instance(rng));
  const num = (name: keyof Instance) => ({
    kind: 'number' as const,
    name,
    type: 'numeric' as const,
    values: Float64Array.from(rows, (r) => r[name] as number),
  });
  const frame = frameFromColumns([
    num('tenure_months'),
    num('monthly_spend'),
    num('logins_30d'),
    num('support_tickets'),
    num('discount_pct'),
    { kind: 'string', name: 'plan', type: 'categorical', values: rows.map((r) => r.plan) },
    { kind: 'string', name: 'region', type: 'categorical', values: rows.map((r) => r.region) },
    {
      kind: 'number',
      name: 'auto_renew',
      type: 'boolean',
      values: Float64Array.from(rows, (r) => (r.auto_renew ? 1 : 0)),
    },
  ]);
  const predictions = new Float64Array(n * 2);
  rows.forEach((r, i) => {
    const p = output(r).probabilities.yes;
    predictions[2 * i] = 1 - p;
    predictions[2 * i + 1] = p;
  });
  return buildProfile({
    frame,
    features: [
      { name: 'tenure_months', type: 'numeric' },
      { name: 'monthly_spend', type: 'numeric' },
      { name: 'logins_30d', type: 'numeric' },
      { name: 'support_tickets', type: 'numeric' },
      { name: 'discount_pct', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
      { name: 'region', type: 'categorical' },
      { name: 'auto_renew', type: 'boolean' },
    ],
    rows: Int32Array.from(rows.keys()),
    task: 'binary',
    classes: ['no', 'yes'],
    predictions,
    predRows: n,
    seed,
  });
}
