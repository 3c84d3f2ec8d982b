// Shared fixtures for the codec and tuned-training tests: labelled tabular rows for every task.
import type { RawCell } from '../../../src/core/cells.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../../../src/core/types.ts';
import { createRng } from '../../../src/ml/rng.ts';

export function col(name: string, type: ColumnType, identifying = false): ColumnSchema {
  return {
    name,
    type,
    nullable: true,
    missing: 0,
    distinct: 0,
    distinctApprox: false,
    identifying,
    identifyingReasons: [],
  };
}

export type Kind = 'binary' | 'multiclass' | 'regression';

/** `n` rows with two numbers (one with gaps), a category and a label depending on them. */
export function rowsOf(kind: Kind, n: number, seed: number, shift = 0): Record<string, RawCell>[] {
  const rng = createRng(seed);
  const gauss = () => {
    let u = 0;
    while (u === 0) u = rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const out: Record<string, RawCell>[] = [];
  for (let i = 0; i < n; i++) {
    const a = gauss();
    const b = gauss();
    const region = ['north', 'south', 'east'][rng.int(3)];
    const s = 2 * a - b + (region === 'north' ? 1 : 0) + shift * b;
    let label: RawCell;
    if (kind === 'binary') label = s + 0.5 * gauss() > 0 ? 'yes' : 'no';
    else if (kind === 'multiclass') label = s < -1 ? 'low' : s < 1 ? 'mid' : 'high';
    else label = 3 * a - 2 * b + 0.2 * gauss();
    out.push({ a, b: i % 9 === 0 ? null : b, region, label });
  }
  return out;
}

export function schemaOf(kind: Kind): DatasetSchema {
  return {
    columns: [
      col('a', 'numeric'),
      col('b', 'numeric'),
      col('region', 'categorical'),
      col('label', kind === 'regression' ? 'numeric' : 'categorical'),
    ],
  };
}
