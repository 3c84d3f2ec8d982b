// The advisor's policy: given the validation metrics of the tenant-specific, shared and tuned candidates
// — all measured on the same held-out rows of the tenant's data — which approach serves the tenant best,
// and why. Pure: the advisor service gathers the metrics, this decides.
import type { ModelRef } from './jobs.ts';

export type Approach = 'tenant' | 'shared' | 'tuned';

export interface Candidate {
  mode: Approach;
  /** The version measured: the candidate job's registered version, or the shared version. */
  ref: ModelRef | null;
  /** Validation metrics on the shared held-out rows (names as src/ml/metrics.ts writes them). */
  metrics: Record<string, number>;
}

export interface AdviceInput {
  task: 'binary' | 'multiclass' | 'regression';
  /** Size of the held-out set the metrics come from (the noise of a comparison depends on it). */
  validRows: number;
  candidates: Candidate[];
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

/** Filled in by the learning-core work (see its tests): the choice and its reasons. */
export function recommend(input: AdviceInput): Omit<AdviceResult, 'promoted'> {
  void input;
  throw new Error('recommend: not implemented yet');
}
