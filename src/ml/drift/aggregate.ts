// A monitoring window in bounded space: counts on the reference profile's buckets, a reservoir sample per
// numeric feature, data-quality counters and feedback sums. Folding is incremental and cheap (it runs per
// logged prediction), merging two windows is exact for counts, and the whole thing is plain JSON.
import { isMissing, parseBoolean, type RawCell } from '../../core/cells.ts';
import { readNumberCell, readStringCell } from '../frame.ts';
import { createRng } from '../rng.ts';
import {
  binOf,
  type CategoricalProfile,
  type FeatureProfile,
  type NumericProfile,
  type ReferenceProfile,
} from './profile.ts';

export const AGGREGATE_FORMAT = 'tenantml.window/1';
/** Reservoir size per numeric feature: enough for KS and Wasserstein, bounded whatever the traffic. */
export const RESERVOIR_SIZE = 1000;

export interface NumericAggregate {
  kind: 'numeric';
  /** Values present (what the reservoir has seen). */
  n: number;
  missing: number;
  /** Lower tail, one count per reference bin, upper tail (profile edges.length + 1 entries). */
  counts: number[];
  /** A uniform sample of the present values, at most RESERVOIR_SIZE. */
  reservoir: number[];
}

export interface CategoricalAggregate {
  kind: 'categorical';
  n: number;
  missing: number;
  /** One count per reference category, in the profile's order. */
  counts: number[];
  /** Values in no listed reference category (unseen, or among the reference's rare `other` ones). */
  unseen: number;
}

export type FeatureAggregate = NumericAggregate | CategoricalAggregate;

export interface FeedbackAggregate {
  /** Labels matched to predictions. */
  n: number;
  /** Classification: predicted label equal to the true one (compared as strings). */
  correct: number;
  /** Regression: sum of squared errors. */
  sse: number;
}

export interface WindowAggregate {
  format: typeof AGGREGATE_FORMAT;
  /** Predictions folded in. */
  rows: number;
  /** In the profile's feature order. */
  features: FeatureAggregate[];
  prediction: FeatureAggregate | null;
  probability: NumericAggregate | null;
  feedback: FeedbackAggregate;
}

export function emptyAggregate(profile: ReferenceProfile): WindowAggregate {
  return {
    format: AGGREGATE_FORMAT,
    rows: 0,
    features: profile.features.map(emptyFeature),
    prediction: profile.prediction ? emptyFeature(profile.prediction) : null,
    probability: profile.probability ? (emptyFeature(profile.probability) as NumericAggregate) : null,
    feedback: { n: 0, correct: 0, sse: 0 },
  };
}

function emptyFeature(p: FeatureProfile): FeatureAggregate {
  // Packed arrays (not `new Array(n)`, which is holey): the counters are incremented per prediction.
  if (p.kind === 'numeric') {
    // A reference without values has no edges: every value lands in the lower "tail", and the upper one
    // is kept so that tails are always the first and last entries.
    return {
      kind: 'numeric',
      n: 0,
      missing: 0,
      counts: zeros(Math.max(p.edges.length + 1, 2)),
      reservoir: [],
    };
  }
  return { kind: 'categorical', n: 0, missing: 0, counts: zeros(p.categories.length), unseen: 0 };
}

function zeros(n: number): number[] {
  return Array.from({ length: n }, () => 0);
}

// Category lookups compiled once per profile object (profiles are plain JSON, so no Map inside), found
// with one WeakMap lookup per folded prediction rather than one per categorical feature.
const plans = new WeakMap<ReferenceProfile, (Map<string, number> | null)[]>();

function planOf(profile: ReferenceProfile): (Map<string, number> | null)[] {
  let plan = plans.get(profile);
  if (!plan) {
    const index = (p: FeatureProfile | null) =>
      p && p.kind === 'categorical' ? new Map(p.categories.map((c, i) => [c, i])) : null;
    plan = [...profile.features.map(index), index(profile.prediction)];
    plans.set(profile, plan);
  }
  return plan;
}

/** A raw cell as the number the profile compares: the value, epoch ms, or a text's length; NaN = missing. */
function numericValue(p: NumericProfile, raw: unknown): number {
  // The common case, a JSON number for a numeric feature, skips the cell readers.
  if (typeof raw === 'number' && (p.type === 'numeric' || p.type === 'integer')) {
    return Number.isFinite(raw) ? raw : Number.NaN;
  }
  return numericSlow(p, raw);
}

function numericSlow(p: NumericProfile, raw: unknown): number {
  const cell = asCell(raw);
  if (p.type === 'text') {
    const s = readStringCell(cell);
    return s === null ? Number.NaN : s.length;
  }
  const t = p.type === 'datetime' ? 'datetime' : p.type === 'integer' ? 'integer' : 'numeric';
  return readNumberCell(cell, t);
}

function categoryValue(p: CategoricalProfile, raw: unknown): string | null {
  const cell = asCell(raw);
  if (p.type === 'boolean') {
    if (isMissing(cell)) return null;
    const b = parseBoolean(cell);
    return b === undefined ? null : b ? 'true' : 'false';
  }
  return readStringCell(cell);
}

function asCell(raw: unknown): RawCell {
  const t = typeof raw;
  return t === 'string' || t === 'number' || t === 'boolean' || raw === null || raw === undefined
    ? (raw as RawCell)
    : null;
}

function foldNumeric(a: NumericAggregate, p: NumericProfile, x: number, random: () => number): void {
  if (Number.isNaN(x)) {
    a.missing++;
    return;
  }
  a.counts[binOf(p.edges, x)]++;
  a.n++;
  // Reservoir sampling (Algorithm R): after the fill, the n-th value replaces a random slot with
  // probability RESERVOIR_SIZE / n, which keeps every value seen equally likely to be held.
  if (a.reservoir.length < RESERVOIR_SIZE) a.reservoir.push(x);
  else {
    const j = Math.floor(random() * a.n);
    if (j < RESERVOIR_SIZE) a.reservoir[j] = x;
  }
}

function foldCategory(a: CategoricalAggregate, index: Map<string, number>, v: string | null): void {
  if (v === null) {
    a.missing++;
    return;
  }
  a.n++;
  const k = index.get(v);
  if (k === undefined) a.unseen++;
  else a.counts[k]++;
}

/**
 * Folds one logged prediction in: its instance (`features`, the raw request object) and its `output`
 * ({label, probabilities} or {value}). Features the instance lacks count as missing.
 */
export function foldPrediction(
  agg: WindowAggregate,
  profile: ReferenceProfile,
  features: Record<string, unknown>,
  output: unknown,
  random: () => number,
): void {
  agg.rows++;
  const fp = profile.features;
  const fa = agg.features;
  const inst = features ?? {};
  const plan = planOf(profile);
  for (let k = 0; k < fp.length; k++) {
    const p = fp[k];
    const raw = inst[p.name];
    if (p.kind === 'numeric') foldNumeric(fa[k] as NumericAggregate, p, numericValue(p, raw), random);
    else foldCategory(fa[k] as CategoricalAggregate, plan[k] as Map<string, number>, categoryValue(p, raw));
  }
  if (profile.prediction && agg.prediction) {
    const o = (output ?? {}) as { label?: unknown; value?: unknown; probabilities?: Record<string, number> };
    if (profile.prediction.kind === 'numeric') {
      foldNumeric(agg.prediction as NumericAggregate, profile.prediction, toNumber(o.value), random);
    } else {
      foldCategory(
        agg.prediction as CategoricalAggregate,
        plan[fp.length] as Map<string, number>,
        labelText(o.label),
      );
    }
    if (profile.probability && agg.probability) {
      foldNumeric(agg.probability, profile.probability, probabilityOf(profile, o), random);
    }
  }
}

function toNumber(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

function labelText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

/** The positive class's probability (binary: classes[1]) or the top probability (multiclass). */
function probabilityOf(profile: ReferenceProfile, o: { probabilities?: Record<string, number> }): number {
  const probs = o.probabilities;
  if (!probs || typeof probs !== 'object') return Number.NaN;
  if (profile.task === 'binary' && profile.classes && profile.classes.length === 2) {
    return toNumber(probs[profile.classes[1]]);
  }
  let best = Number.NaN;
  for (const k in probs) {
    const v = probs[k];
    if (typeof v === 'number' && !(v <= best)) best = v;
  }
  return best;
}

/**
 * Folds one feedback label against the logged output of its prediction. Returns false (and counts
 * nothing) when either side is unusable: no predicted label/value, or a regression label that is not a number.
 */
export function foldFeedback(
  agg: WindowAggregate,
  profile: ReferenceProfile,
  output: unknown,
  label: unknown,
): boolean {
  const o = (output ?? {}) as { label?: unknown; value?: unknown };
  if (label === null || label === undefined) return false;
  if (profile.task === 'regression') {
    const pred = toNumber(o.value);
    const truth =
      typeof label === 'number' ? label : typeof label === 'string' ? Number(label.trim()) : Number.NaN;
    if (Number.isNaN(pred) || !Number.isFinite(truth) || (typeof label === 'string' && label.trim() === ''))
      return false;
    agg.feedback.n++;
    agg.feedback.sse += (pred - truth) * (pred - truth);
    return true;
  }
  const predicted = labelText(o.label);
  if (predicted === null) return false;
  let truth = String(label);
  // A boolean target predicts 'true'/'false'; the client sends the label as its data spells it
  // (yes/no, 1/0, true/false), which the training data was read the same way from.
  if (predicted === 'true' || predicted === 'false') {
    const b = parseBoolean(label as RawCell);
    if (b !== undefined) truth = String(b);
  }
  agg.feedback.n++;
  if (predicted === truth) agg.feedback.correct++;
  return true;
}

/**
 * Merges two windows of the same profile into a new one. Counts and sums add exactly; reservoirs merge
 * fairly: the merged sample takes from each side in proportion to the values that side saw (a
 * hypergeometric draw), then a uniform subset of that side's reservoir. The draw is seeded from the
 * inputs so that merging is a pure function.
 */
export function mergeAggregates(a: WindowAggregate, b: WindowAggregate): WindowAggregate {
  if (a.features.length !== b.features.length) throw new RangeError('windows of different profiles');
  const rng = createRng(mixSeed(a, b));
  const random = () => rng.next();
  return {
    format: AGGREGATE_FORMAT,
    rows: a.rows + b.rows,
    features: a.features.map((fa, k) => mergeFeature(fa, b.features[k], random)),
    prediction:
      a.prediction && b.prediction
        ? mergeFeature(a.prediction, b.prediction, random)
        : (a.prediction ?? b.prediction),
    probability:
      a.probability && b.probability
        ? (mergeFeature(a.probability, b.probability, random) as NumericAggregate)
        : (a.probability ?? b.probability),
    feedback: {
      n: a.feedback.n + b.feedback.n,
      correct: a.feedback.correct + b.feedback.correct,
      sse: a.feedback.sse + b.feedback.sse,
    },
  };
}

function addCounts(x: number[], y: number[]): number[] {
  if (x.length !== y.length) throw new RangeError('windows of different profiles');
  const out = new Array<number>(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i];
  return out;
}

function mergeFeature(a: FeatureAggregate, b: FeatureAggregate, random: () => number): FeatureAggregate {
  if (a.kind === 'categorical' && b.kind === 'categorical') {
    return {
      kind: 'categorical',
      n: a.n + b.n,
      missing: a.missing + b.missing,
      counts: addCounts(a.counts, b.counts),
      unseen: a.unseen + b.unseen,
    };
  }
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    return {
      kind: 'numeric',
      n: a.n + b.n,
      missing: a.missing + b.missing,
      counts: addCounts(a.counts, b.counts),
      reservoir: mergeReservoirs(a.reservoir, a.n, b.reservoir, b.n, random),
    };
  }
  throw new RangeError('windows of different profiles');
}

/** A uniform sample of the union, given uniform samples `ra` of `na` values and `rb` of `nb` values. */
export function mergeReservoirs(
  ra: number[],
  na: number,
  rb: number[],
  nb: number,
  random: () => number,
): number[] {
  if (na + nb <= RESERVOIR_SIZE) return ra.concat(rb);
  const size = Math.min(RESERVOIR_SIZE, ra.length + rb.length);
  // How many of the merged slots come from a: drawing without replacement from na + nb values.
  let restA = na;
  let restB = nb;
  let fromA = 0;
  for (let k = 0; k < size; k++) {
    if (random() * (restA + restB) < restA) {
      fromA++;
      restA--;
    } else restB--;
  }
  const fromB = size - fromA;
  return pick(ra, Math.min(fromA, ra.length), random).concat(pick(rb, Math.min(fromB, rb.length), random));
}

/** k values of v chosen uniformly without replacement (partial Fisher–Yates on a copy). */
function pick(v: number[], k: number, random: () => number): number[] {
  const c = v.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (c.length - i));
    const t = c[i];
    c[i] = c[j];
    c[j] = t;
  }
  c.length = k;
  return c;
}

function mixSeed(a: WindowAggregate, b: WindowAggregate): number {
  let h = 0x811c9dc5 ^ a.rows ^ Math.imul(b.rows, 0x01000193);
  for (const f of [...a.features, ...b.features]) {
    if (f.kind !== 'numeric') continue;
    h = Math.imul(h ^ f.n, 0x01000193);
    const r = f.reservoir;
    if (r.length > 0) h = Math.imul(h ^ ((r[0] * 1e6) | 0) ^ ((r[r.length - 1] * 1e6) | 0), 0x01000193);
  }
  return h >>> 0;
}
