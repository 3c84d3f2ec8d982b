// The advisor's policy: given the validation metrics of the tenant-specific, shared and tuned candidates
// — all measured on the same held-out rows of the tenant's data — which approach serves the tenant best,
// and why. Pure: the advisor service gathers the metrics, this decides.
import { AppError, invalid } from './errors.ts';
import type { ModelRef } from './jobs.ts';

export type Approach = 'tenant' | 'shared' | 'tuned';

export interface Candidate {
  mode: Approach;
  /** The version measured: the candidate job's registered version, or the shared version. */
  ref: ModelRef | null;
  /** Validation metrics on the shared held-out rows (names as src/ml/metrics.ts writes them). */
  metrics: Record<string, number>;
  /** The candidate's model family (`linear`, `gbdt`, …) when known: it can change the preference order. */
  algorithm?: string;
}

export interface AdviceInput {
  task: 'binary' | 'multiclass' | 'regression';
  /** Size of the held-out set the metrics come from (the noise of a comparison depends on it). */
  validRows: number;
  candidates: Candidate[];
  /** The order among candidates the held-out rows cannot tell apart (default: `defaultPreference`). */
  prefer?: readonly Approach[];
  /** How many standard errors of a difference count as noise (default NOISE_Z). */
  noiseZ?: number;
}

export interface AdviceResult {
  /** The metric the choice is made on, and its direction. */
  metric: { name: string; higherIsBetter: boolean };
  validRows: number;
  candidates: (Candidate & { score: number | null })[];
  recommendation: Approach;
  /** Readable sentences, figures included; no data values. */
  reasons: string[];
  /** The version made live when the request asked for autoPromote (null otherwise or when none was). */
  promoted: ModelRef | null;
}

/**
 * When the leader's advantage over another candidate is smaller than this many standard errors of the
 * difference, the held-out rows cannot tell them apart and the preference order decides.
 */
export const NOISE_Z = 2;

/** The order among candidates the held-out rows cannot tell apart (see docs/learning.md, "Advisor"). */
export const DEFAULT_PREFERENCE: readonly Approach[] = ['tuned', 'tenant', 'shared'];
/**
 * The order when the tuned candidate is trees and the tenant-specific one linear: the tenant has too
 * few rows for trees of its own (`auto`), and trees boosted on from a shared model on those few rows
 * were worse than the tenant's linear model more often than not (docs/learning.md, "Advisor").
 */
export const FEW_ROWS_TREES_PREFERENCE: readonly Approach[] = ['tenant', 'tuned', 'shared'];

/** The preference order for these candidates when the caller gives none. */
export function defaultPreference(candidates: readonly Candidate[]): readonly Approach[] {
  const find = (mode: Approach) => candidates.find((c) => c.mode === mode);
  const tuned = find('tuned');
  if (!(tuned?.algorithm === 'gbdt' && find('tenant')?.algorithm === 'linear')) return DEFAULT_PREFERENCE;
  // Tuned trees that score exactly as their shared base on the held-out rows added no round to it: the
  // cross-validation on the tenant's training rows found nothing to learn beyond the shared model, which
  // is evidence for it over a linear model from those few rows.
  return sameScores(tuned, find('shared')) ? DEFAULT_PREFERENCE : FEW_ROWS_TREES_PREFERENCE;
}

function sameScores(a: Candidate, b: Candidate | undefined): boolean {
  if (!b) return false;
  const names = Object.keys(a.metrics);
  return names.length > 0 && names.every((k) => Object.is(a.metrics[k], b.metrics[k]));
}

interface Scored {
  c: Candidate;
  score: number;
  /** Classification: log-loss, the tie-break; regression: unused. */
  second: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const pts = (x: number): string => `${(x * 100).toFixed(1)} points`;
const num = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));

/**
 * Picks the approach with the best held-out score — accuracy (ties: lower log-loss) for classification,
 * RMSE for regression — unless its lead over a candidate earlier in the preference order is within
 * NOISE_Z standard errors of the difference: then that candidate is picked, since the rows do not show
 * it is worse. Standard errors: accuracy √(p(1−p)/n) per candidate, RMSE ≈ rmse/√(2n); the difference's
 * is √(se₁² + se₂²) (ignoring that both are measured on the same rows, which makes it conservative).
 */
export function recommend(input: AdviceInput): Omit<AdviceResult, 'promoted'> {
  const classification = input.task !== 'regression';
  const metric = classification
    ? { name: 'accuracy', higherIsBetter: true }
    : { name: 'rmse', higherIsBetter: false };
  const n = input.validRows;
  const prefer = input.prefer ?? defaultPreference(input.candidates);
  const z = input.noiseZ ?? NOISE_Z;
  const reasons: string[] = [];
  const scored: Scored[] = [];
  const candidates = input.candidates.map((c) => {
    const v = c.metrics?.[metric.name];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      reasons.push(`${c.mode}: skipped, it has no ${metric.name} on the held-out rows.`);
      return { ...c, score: null };
    }
    const ll = c.metrics.logLoss;
    scored.push({
      c,
      score: v,
      second: typeof ll === 'number' && Number.isFinite(ll) ? ll : Number.POSITIVE_INFINITY,
    });
    return { ...c, score: v };
  });
  if (scored.length === 0) {
    throw new AppError('unprocessable', 'no candidate could be evaluated on the held-out rows', {
      errors: [{ field: 'candidates', message: `none has a ${metric.name}` }],
    });
  }
  if (!(Number.isInteger(n) && n > 0)) throw invalid('validRows', 'must be a positive integer');

  // Best first: higher accuracy (lower log-loss on a tie), or lower RMSE.
  const better = (a: Scored, b: Scored): number =>
    classification ? b.score - a.score || a.second - b.second : a.score - b.score;
  scored.sort((a, b) => better(a, b) || rank(prefer, a.c.mode) - rank(prefer, b.c.mode));
  const se = (x: number): number =>
    classification ? Math.sqrt(Math.max(x * (1 - x), 0) / n) : x / Math.sqrt(2 * n);
  const seOfDiff = (a: Scored, b: Scored): number => Math.sqrt(se(a.score) ** 2 + se(b.score) ** 2);
  const show = (x: number): string => (classification ? pct(x) : num(x));
  const gap = (x: number): string => (classification ? pts(x) : num(x));

  for (const s of scored) {
    reasons.push(
      `${s.c.mode}: ${metric.name} ${show(s.score)} on ${n} held-out rows` +
        (classification && Number.isFinite(s.second) ? ` (log-loss ${s.second.toFixed(4)})` : '') +
        '.',
    );
  }
  const leader = scored[0];
  let chosen = leader;
  // A candidate preferred to the leader wins when the leader's lead over it is within the noise.
  for (const s of scored.slice(1)) {
    if (rank(prefer, s.c.mode) >= rank(prefer, chosen.c.mode)) continue;
    const lead = Math.abs(leader.score - s.score);
    const seDiff = seOfDiff(leader, s);
    if (lead <= z * seDiff) {
      reasons.push(
        `${leader.c.mode} leads ${s.c.mode} by ${gap(lead)}, within ${z} standard errors ` +
          `of the difference (${gap(seDiff)} with ${n} rows): not evidence, so the preference order ` +
          `(${prefer.join(' > ')}) decides for ${s.c.mode}.`,
      );
      chosen = s;
    }
  }
  if (chosen === leader) {
    if (scored.length === 1) reasons.push(`${leader.c.mode} is the only candidate with metrics.`);
    else {
      const runner = scored[1];
      const lead = Math.abs(leader.score - runner.score);
      const seDiff = seOfDiff(leader, runner);
      const tie = lead === 0 ? ' (equal accuracy, lower log-loss)' : '';
      reasons.push(
        `${leader.c.mode} has the best ${metric.name}${tie}; its lead over ${runner.c.mode} is ${gap(lead)} ` +
          `(standard error of the difference ${gap(seDiff)} with ${n} rows)` +
          (lead > z * seDiff
            ? ', larger than the noise.'
            : ', and no candidate preferred to it is within the noise.'),
      );
    }
  }
  const treesOnFewRows = (['tuned', 'tenant'] as const).map(
    (m) => input.candidates.find((c) => c.mode === m)?.algorithm,
  );
  if (!input.prefer && treesOnFewRows[0] === 'gbdt' && treesOnFewRows[1] === 'linear') {
    reasons.push(
      prefer === FEW_ROWS_TREES_PREFERENCE
        ? 'The tuned candidate is trees and the tenant-specific one linear (too few rows for trees of ' +
            'its own), so tenant-specific comes before tuned in the preference order.'
        : 'The tuned candidate (trees) scores exactly as the shared model: cross-validation on the ' +
            "tenant's training rows added nothing to it, so tuned keeps its place in the preference order.",
    );
  }
  reasons.push(`Recommended: ${chosen.c.mode}.`);
  return { metric, validRows: n, candidates, recommendation: chosen.c.mode, reasons };
}

function rank(prefer: readonly Approach[], a: Approach): number {
  const i = prefer.indexOf(a);
  return i < 0 ? prefer.length : i;
}
