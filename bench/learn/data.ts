// CSV splits written by anchors.py (header row, label in the last column) → DenseMatrix + labels.
import { readFileSync } from 'node:fs';
import type { DenseMatrix } from '../../src/ml/types.ts';

export interface Split {
  X: DenseMatrix;
  y: Float64Array;
}

export function readSplit(path: string): Split {
  const lines = readFileSync(path, 'utf8').split('\n');
  const header = lines[0].split(',');
  const cols = header.length - 1;
  const body = lines.slice(1).filter((l) => l.length > 0);
  const rows = body.length;
  const data = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = body[r].split(',');
    for (let f = 0; f < cols; f++) data[r * cols + f] = Number(cells[f]);
    y[r] = Number(cells[cols]);
  }
  return { X: { kind: 'dense', rows, cols, data }, y };
}

/** A seeded synthetic binary problem with some NaNs, generated in place (no file): for the RSS run. */
export function synthetic(rows: number, cols: number, next: () => number): Split {
  const data = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let f = 0; f < cols; f++) {
      const v = next() * 2 - 1;
      data[o + f] = next() < 0.02 ? Number.NaN : v;
      if (f < 10) s += (f % 2 === 0 ? 1 : -0.7) * v + (f === 3 ? v * v : 0);
    }
    y[r] = s + 0.5 * (next() - 0.5) > 0 ? 1 : 0;
  }
  return { X: { kind: 'dense', rows, cols, data }, y };
}
