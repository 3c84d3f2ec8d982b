// The multitenant problem of `npm run bench -- modes`: tenants whose sizes follow a power law and whose
// binary labels are a common function of the features plus a tenant-specific shift of varying strength.
// Seeded: the same seed gives the same tenants, rows and labels.
import type { RawCell } from '../../src/core/cells.ts';
import { createRng, type Rng } from '../../src/ml/rng.ts';

export const COLUMNS = [
  'x1',
  'x2',
  'x3',
  'visits',
  'region',
  'plan',
  'referrer',
  'email',
  'churned',
] as const;
const REGIONS = ['north', 'south', 'east', 'west', 'central', 'islands'];
const PLANS = ['basic', 'pro', 'enterprise'];
// A link among the referrers exercises the scrubbing of values inside categorical cells.
const REFERRERS = ['search', 'ads', 'newsletter', 'https://partner.example.com/welcome'];
const REGION_EFFECT = [0.6, -0.4, 0.2, -0.6, 0.0, 0.8];
const PLAN_EFFECT = [-0.5, 0.2, 0.7];
const REFERRER_EFFECT = [0.0, -0.3, 0.4, 0.3];

export interface Tenant {
  id: string;
  /** Rows the tenant has (training + validation); its test set is extra. */
  size: number;
  /** Scale of the tenant's own deviation from the common function (0 = none). */
  shift: number;
  /** The tenant's deviation: weights on x1..x3, an intercept and a region effect. */
  w: number[];
  b: number;
  regionShift: number[];
  /** Feature distribution: a mean offset for x1 and a region mix. */
  mu: number;
  regionMix: number[];
}

function gauss(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function pick(rng: Rng, weights: number[]): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return weights.length - 1;
}

/**
 * `count` tenants; tenant k (from 1) has round(maxRows · k^−a) rows with a chosen so the last has
 * minRows (a Zipf-like power law: a few large tenants, many small). Shift strengths are spread evenly over
 * [0, maxShift] and dealt to tenants at random, so size and shift are independent.
 */
export function makeTenants(
  seed: number,
  count = 30,
  minRows = 50,
  maxRows = 20_000,
  maxShift = 1.5,
): Tenant[] {
  const rng = createRng(seed);
  const a = Math.log(maxRows / minRows) / Math.log(count);
  const shifts = rng.shuffle(Array.from({ length: count }, (_, k) => (maxShift * k) / (count - 1)));
  const out: Tenant[] = [];
  for (let k = 1; k <= count; k++) {
    out.push({
      id: `t${String(k).padStart(2, '0')}`,
      size: Math.max(minRows, Math.round(maxRows * k ** -a)),
      shift: shifts[k - 1],
      w: [gauss(rng), gauss(rng), gauss(rng)],
      b: gauss(rng) * 0.7,
      regionShift: REGIONS.map(() => gauss(rng)),
      mu: gauss(rng) * 0.3,
      regionMix: REGIONS.map(() => 0.3 + rng.next()),
    });
  }
  return out;
}

/** Rows of one tenant as arrays in COLUMNS order (the last is the label, 'yes' or 'no'). */
export function makeRows(t: Tenant, n: number, rng: Rng, emailOffset: number): RawCell[][] {
  const rows: RawCell[][] = [];
  for (let i = 0; i < n; i++) {
    const x1 = gauss(rng) + t.mu;
    const x2 = gauss(rng);
    const x3 = gauss(rng);
    let visits = 0;
    while (visits < 30 && rng.next() < 0.8) visits++;
    const region = pick(rng, t.regionMix);
    const plan = pick(rng, [0.5, 0.35, 0.15]);
    const referrer = pick(rng, [0.4, 0.25, 0.2, 0.15]);
    const common =
      1.2 * x1 -
      0.8 * x2 +
      0.7 * x1 * x3 +
      0.12 * (visits - 4) +
      REGION_EFFECT[region] +
      PLAN_EFFECT[plan] +
      REFERRER_EFFECT[referrer];
    const own = t.w[0] * x1 + t.w[1] * x2 + t.w[2] * x3 + t.b + t.regionShift[region];
    const logit = common + t.shift * own;
    const label = rng.next() < 1 / (1 + Math.exp(-logit)) ? 'yes' : 'no';
    rows.push([
      round(x1),
      round(x2),
      round(x3),
      visits,
      REGIONS[region],
      PLANS[plan],
      REFERRERS[referrer],
      `customer${emailOffset + i}.${t.id}@example.com`,
      label,
    ]);
  }
  return rows;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
