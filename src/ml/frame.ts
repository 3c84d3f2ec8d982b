// Columnar frames: parsed rows laid out per column with the schema's types, and the target pulled out of them.
// Every cell is read through src/core/cells.ts so that training and prediction agree on what a value means.
import {
  cellText,
  isMissing,
  parseBoolean,
  parseDatetime,
  parseNumber,
  type RawCell,
} from '../core/cells.ts';
import { AppError } from '../core/errors.ts';
import type { ColumnType, DatasetSchema } from '../core/types.ts';
import type { Task } from './types.ts';

/** numeric/integer/boolean/datetime: Float64Array with NaN for missing (boolean 0/1, datetime epoch ms). */
export interface NumberColumn {
  kind: 'number';
  name: string;
  type: 'numeric' | 'integer' | 'boolean' | 'datetime';
  values: Float64Array;
}

/** categorical/text: the cell as a string, null for missing. */
export interface StringColumn {
  kind: 'string';
  name: string;
  type: 'categorical' | 'text';
  values: (string | null)[];
}

export type FrameColumn = NumberColumn | StringColumn;

export interface Frame {
  nRows: number;
  columns: FrameColumn[];
}

export function isNumberType(t: ColumnType): t is NumberColumn['type'] {
  return t === 'numeric' || t === 'integer' || t === 'boolean' || t === 'datetime';
}

/** One cell as a number of the given type: NaN when missing or not readable as that type. */
export function readNumberCell(v: RawCell, type: NumberColumn['type']): number {
  if (isMissing(v)) return Number.NaN;
  let out: number | undefined;
  if (type === 'boolean') {
    const b = parseBoolean(v);
    out = b === undefined ? undefined : b ? 1 : 0;
  } else if (type === 'datetime') {
    out = parseDatetime(v);
  } else {
    out = parseNumber(v);
  }
  return out === undefined ? Number.NaN : out;
}

export function readStringCell(v: RawCell): string | null {
  if (isMissing(v)) return null;
  return cellText(v) ?? null;
}

/** Lays parsed rows out per column. A cell that does not read as its column's type counts as missing. */
export function buildFrame(rows: Record<string, RawCell>[], schema: DatasetSchema): Frame {
  const n = rows.length;
  const columns: FrameColumn[] = schema.columns.map((c) => {
    if (isNumberType(c.type)) {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = readNumberCell(rows[i][c.name], c.type);
      return { kind: 'number', name: c.name, type: c.type, values };
    }
    const values: (string | null)[] = new Array(n);
    for (let i = 0; i < n; i++) values[i] = readStringCell(rows[i][c.name]);
    return { kind: 'string', name: c.name, type: c.type as StringColumn['type'], values };
  });
  return { nRows: n, columns };
}

/** Builds a frame from ready columns (all of the same length). */
export function frameFromColumns(columns: FrameColumn[]): Frame {
  const nRows = columns.length === 0 ? 0 : columns[0].values.length;
  for (const c of columns) {
    if (c.values.length !== nRows)
      throw new Error(`column ${c.name} has ${c.values.length} rows, not ${nRows}`);
  }
  return { nRows, columns };
}

export function getColumn(frame: Frame, name: string): FrameColumn | undefined {
  return frame.columns.find((c) => c.name === name);
}

export interface ClassTarget {
  kind: 'classification';
  /** Class labels, sorted (numerically when the column is numeric). */
  classes: string[];
  /** Class index per frame row; -1 where the target is missing. */
  y: Int32Array;
  /** Rows whose target is present, ascending. */
  rows: Int32Array;
}

export interface RegressionTarget {
  kind: 'regression';
  /** Value per frame row; NaN where the target is missing. */
  y: Float64Array;
  rows: Int32Array;
}

export type Target = ClassTarget | RegressionTarget;

/** More than this share of missing target cells refuses training: the labels would not represent the data. */
export const MAX_TARGET_MISSING = 0.5;
/** More distinct labels than this is not a classification problem we train. */
export const MAX_CLASSES = 100;
/** Integer targets with at most this many distinct values are read as classes when no task is given. */
export const MAX_INFERRED_CLASSES = 20;

function targetError(message: string): AppError {
  return new AppError('validation_failed', `target: ${message}`, { errors: [{ field: 'target', message }] });
}

function presentRows(col: FrameColumn): Int32Array {
  const out: number[] = [];
  const v = col.values;
  if (col.kind === 'number') {
    const a = v as Float64Array;
    for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i])) out.push(i);
  } else {
    const a = v as (string | null)[];
    for (let i = 0; i < a.length; i++) if (a[i] !== null) out.push(i);
  }
  return Int32Array.from(out);
}

function labelOf(col: FrameColumn, i: number): string {
  if (col.kind === 'string') return col.values[i] as string;
  const x = col.values[i];
  if (col.type === 'boolean') return x === 1 ? 'true' : 'false';
  if (col.type === 'datetime') return new Date(x).toISOString();
  return String(x);
}

/**
 * The task a target column suggests: numbers with many distinct values (or any fractional value) are a
 * regression; otherwise two classes are binary and more are multiclass.
 */
export function inferTask(frame: Frame, name: string): Task {
  const col = requireTargetColumn(frame, name);
  const rows = presentRows(col);
  if (col.kind === 'number' && (col.type === 'numeric' || col.type === 'integer')) {
    const distinct = new Set<number>();
    let fractional = false;
    for (const i of rows) {
      const x = col.values[i];
      if (!Number.isInteger(x)) fractional = true;
      if (distinct.size <= MAX_INFERRED_CLASSES) distinct.add(x);
    }
    if (fractional || distinct.size > MAX_INFERRED_CLASSES) return 'regression';
    return distinct.size <= 2 ? 'binary' : 'multiclass';
  }
  const distinct = new Set<string>();
  for (const i of rows) {
    distinct.add(labelOf(col, i));
    if (distinct.size > 2) return 'multiclass';
  }
  return 'binary';
}

function requireTargetColumn(frame: Frame, name: string): FrameColumn {
  const col = getColumn(frame, name);
  if (!col) throw targetError(`column '${name}' is not in the dataset`);
  return col;
}

/**
 * Pulls the target column out of a frame. Refuses (validation_failed on `target`) a missing column, a
 * mostly-missing target, one class only, too many classes, or a non-numeric regression target.
 * `knownClasses` fixes the class list (tuned training keeps the base model's classes).
 */
export function targetOf(frame: Frame, name: string, task: Task, knownClasses?: string[]): Target {
  const col = requireTargetColumn(frame, name);
  const rows = presentRows(col);
  const n = frame.nRows;
  if (n === 0 || rows.length === 0) throw targetError(`column '${name}' has no values`);
  const missingShare = 1 - rows.length / n;
  if (missingShare > MAX_TARGET_MISSING) {
    throw targetError(`column '${name}' is missing in ${Math.round(missingShare * 100)}% of rows`);
  }
  if (task === 'regression') {
    if (col.kind !== 'number' || col.type === 'boolean' || col.type === 'datetime') {
      throw targetError(`column '${name}' is ${col.type}; a regression target must be numeric`);
    }
    const y = new Float64Array(n);
    y.set(col.values);
    return { kind: 'regression', y, rows };
  }
  const seen = new Set<string>();
  for (const i of rows) {
    seen.add(labelOf(col, i));
    if (seen.size > MAX_CLASSES) {
      throw targetError(`column '${name}' has more than ${MAX_CLASSES} distinct values; is it a regression?`);
    }
  }
  let classes: string[];
  if (knownClasses) {
    for (const c of seen) {
      if (!knownClasses.includes(c)) throw targetError(`class '${c}' is not a class of the base model`);
    }
    classes = knownClasses.slice();
  } else {
    classes = [...seen];
    if (col.kind === 'number' && col.type !== 'boolean' && col.type !== 'datetime') {
      classes.sort((a, b) => Number(a) - Number(b));
    } else {
      classes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    if (classes.length < 2) throw targetError(`column '${name}' has a single class; nothing to learn`);
  }
  if (task === 'binary' && classes.length !== 2) {
    throw targetError(`binary classification needs 2 classes, column '${name}' has ${classes.length}`);
  }
  const index = new Map(classes.map((c, k) => [c, k]));
  const y = new Int32Array(n).fill(-1);
  for (const i of rows) y[i] = index.get(labelOf(col, i)) as number;
  return { kind: 'classification', classes, y, rows };
}
