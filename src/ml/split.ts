// Seeded train/validation splits and k-fold partitions, stratified by class when strata are given.
// Positions are 0..n-1; callers map them onto their own row indices. Outputs are sorted ascending.
import { createRng } from './rng.ts';

export interface SplitOptions {
  /** Share of positions that go to validation, in (0, 1). */
  validFraction: number;
  seed: number;
  /** A stratum (class index) per position: each stratum is split in the same proportion. */
  strata?: Int32Array;
}

export interface Split {
  train: Int32Array;
  valid: Int32Array;
}

/** Groups positions by stratum (one group when none), each group shuffled with the seeded rng. */
function shuffledGroups(n: number, seed: number, strata?: Int32Array): number[][] {
  const rng = createRng(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const s = strata ? strata[i] : 0;
    let g = groups.get(s);
    if (!g) {
      g = [];
      groups.set(s, g);
    }
    g.push(i);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  return keys.map((k) => rng.shuffle(groups.get(k) as number[]));
}

export function trainValidSplit(n: number, opts: SplitOptions): Split {
  const { validFraction, seed, strata } = opts;
  if (!(validFraction > 0 && validFraction < 1)) throw new Error('validFraction must be in (0, 1)');
  if (strata && strata.length !== n) throw new Error('strata must have one entry per position');
  const train: number[] = [];
  const valid: number[] = [];
  for (const g of shuffledGroups(n, seed, strata)) {
    // Every stratum with 2+ members keeps at least one on each side, so validation sees every class.
    let nValid = Math.round(g.length * validFraction);
    if (g.length >= 2) nValid = Math.min(Math.max(nValid, 1), g.length - 1);
    else nValid = 0;
    for (let j = 0; j < g.length; j++) (j < nValid ? valid : train).push(g[j]);
  }
  return { train: sortedInt32(train), valid: sortedInt32(valid) };
}

/** k folds; fold f validates on its share of every stratum and trains on the rest. */
export function kFold(n: number, k: number, opts: { seed: number; strata?: Int32Array }): Split[] {
  if (!Number.isInteger(k) || k < 2 || k > n) throw new Error('k must be an integer in [2, n]');
  const fold = new Int32Array(n);
  let next = 0;
  // Dealing strata out round-robin, continuing across strata, balances fold sizes and class shares.
  for (const g of shuffledGroups(n, opts.seed, opts.strata)) {
    for (const i of g) {
      fold[i] = next;
      next = (next + 1) % k;
    }
  }
  const out: Split[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const valid: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? valid : train).push(i);
    out.push({ train: Int32Array.from(train), valid: Int32Array.from(valid) });
  }
  return out;
}

function sortedInt32(a: number[]): Int32Array {
  return Int32Array.from(a).sort();
}
