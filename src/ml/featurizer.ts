// Frames (training) and raw JSON instances (prediction) to model matrices. Fitted state is plain JSON,
// stored as featurizer.json beside the model; the layout is documented in docs/learning.md.
// Layout of the output: the dense features of every non-text column in schema order, then one hashed
// block per text column. Linear mode imputes and standardises; trees mode keeps raw values with NaN.
import type { RawCell } from '../core/cells.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import type { ColumnType, DatasetSchema } from '../core/types.ts';
import {
  type Frame,
  type FrameColumn,
  getColumn,
  type NumberColumn,
  readNumberCell,
  readStringCell,
} from './frame.ts';
import { hashedCounts } from './text.ts';
import type { CsrMatrix, DenseMatrix, Matrix } from './types.ts';

export const FEATURIZER_VERSION = 1;
export const DEFAULT_MAX_CATEGORIES = 32;
export const DEFAULT_MIN_FREQUENCY = 3;
export const DEFAULT_TEXT_BITS = 16;
/**
 * Trees get dense matrices, so a text column hashes into at most 2^8 = 256 buckets there: 2 KiB per row
 * per text column, which keeps 100k rows within a few hundred MB. Linear models keep the full sparse width.
 */
export const TREES_MAX_TEXT_BITS = 8;
/** Stop collecting field errors past this many; the first ones are enough to fix a request. */
const MAX_FIELD_ERRORS = 50;

export type FeaturizerMode = 'linear' | 'trees';

export interface FeaturizerOptions {
  mode: FeaturizerMode;
  /** Columns never used as features (the target). */
  exclude?: string[];
  /** Drop columns the schema marks `identifying` (needs `schema`). */
  dropIdentifying?: boolean;
  schema?: DatasetSchema;
  /** One-hot at most this many most frequent categories per column (default 32). */
  maxCategories?: number;
  /** A category seen fewer times than this in training goes to the "other" bucket (default 3). */
  minFrequency?: number;
  /** Text hashes into 2^textBits buckets (default 16; trees cap it at 8). */
  textBits?: number;
}

interface Base {
  name: string;
  /** First output feature of this column. */
  offset: number;
}

/** numeric, integer and boolean columns: one value, plus a missing indicator when training saw gaps. */
export interface NumericState extends Base {
  kind: 'numeric';
  type: 'numeric' | 'integer' | 'boolean';
  /** Median of the training values (linear mode; null in trees mode, where NaN passes through). */
  fill: number | null;
  center: number;
  scale: number;
  missingIndicator: boolean;
}

/** datetime columns: hour, day of week (0 = Sunday), month (1–12) and year, all UTC. */
export interface DatetimeState extends Base {
  kind: 'datetime';
  fill: number[] | null;
  center: number[];
  scale: number[];
  missingIndicator: boolean;
}

/** One-hot of `categories`, then an "other" column, then a missing column when training saw gaps. */
export interface CategoricalState extends Base {
  kind: 'categorical';
  categories: string[];
  missingIndicator: boolean;
}

/** Hashed unigrams+bigrams, (1 + log tf) × idf, L2-normalised per cell. */
export interface TextState extends Base {
  kind: 'text';
  bits: number;
  /** Training rows the document frequencies were counted over. */
  nDocs: number;
  /**
   * Buckets seen in training (ascending) and their document frequency; idf = ln((1 + nDocs) / (1 + df)) + 1
   * (a bucket never seen has df = 0). Integers keep the JSON small and exact.
   */
  dfBuckets: number[];
  df: number[];
}

export type ColumnState = NumericState | DatetimeState | CategoricalState | TextState;

export interface FeaturizerState {
  format: 'tenantml.featurizer';
  version: number;
  mode: FeaturizerMode;
  columns: ColumnState[];
  /** Columns that were left out, and why (`excluded`, `identifying`). */
  dropped: { name: string; reason: string }[];
  /** Features before the first text block. */
  nDense: number;
  nFeatures: number;
}

const DATETIME_PARTS = ['hour', 'dayOfWeek', 'month', 'year'] as const;

// ---------------------------------------------------------------------------------------------------
// Fitting

export function fitFeaturizer(frame: Frame, rowsIdx: Int32Array, opts: FeaturizerOptions): FeaturizerState {
  const mode = opts.mode;
  const exclude = new Set(opts.exclude ?? []);
  const identifying = new Set(
    opts.dropIdentifying && opts.schema
      ? opts.schema.columns.filter((c) => c.identifying).map((c) => c.name)
      : [],
  );
  const maxCategories = opts.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  const minFrequency = opts.minFrequency ?? DEFAULT_MIN_FREQUENCY;
  let textBits = opts.textBits ?? DEFAULT_TEXT_BITS;
  if (mode === 'trees') textBits = Math.min(textBits, TREES_MAX_TEXT_BITS);
  if (!Number.isInteger(textBits) || textBits < 1 || textBits > 24)
    throw new Error('textBits must be in [1, 24]');

  const dropped: { name: string; reason: string }[] = [];
  const dense: ColumnState[] = [];
  const text: TextState[] = [];
  let offset = 0;
  for (const col of frame.columns) {
    if (exclude.has(col.name)) {
      dropped.push({ name: col.name, reason: 'excluded' });
      continue;
    }
    if (identifying.has(col.name)) {
      dropped.push({ name: col.name, reason: 'identifying' });
      continue;
    }
    if (col.kind === 'number') {
      const st =
        col.type === 'datetime'
          ? fitDatetime(col, rowsIdx, mode, offset)
          : fitNumeric(col, rowsIdx, mode, offset);
      offset += width(st);
      dense.push(st);
    } else if (col.type === 'categorical') {
      const st = fitCategorical(col.name, col.values, rowsIdx, maxCategories, minFrequency, offset);
      offset += width(st);
      dense.push(st);
    } else {
      text.push(fitText(col.name, col.values, rowsIdx, textBits));
    }
  }
  const nDense = offset;
  for (const t of text) {
    t.offset = offset;
    offset += width(t);
  }
  return {
    format: 'tenantml.featurizer',
    version: FEATURIZER_VERSION,
    mode,
    columns: [...dense, ...text],
    dropped,
    nDense,
    nFeatures: offset,
  };
}

function width(st: ColumnState): number {
  switch (st.kind) {
    case 'numeric':
      return 1 + (st.missingIndicator ? 1 : 0);
    case 'datetime':
      return DATETIME_PARTS.length + (st.missingIndicator ? 1 : 0);
    case 'categorical':
      return st.categories.length + 1 + (st.missingIndicator ? 1 : 0);
    case 'text':
      return 1 << st.bits;
  }
}

function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median fill, then mean and population standard deviation of the imputed values. */
function imputeScale(values: Float64Array): {
  fill: number;
  center: number;
  scale: number;
  missing: boolean;
} {
  let present = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) present++;
  const kept = new Float64Array(present);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept[j++] = values[i];
  const fill = median(kept);
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += Number.isNaN(values[i]) ? fill : values[i];
  mean = n > 0 ? mean / n : 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (Number.isNaN(values[i]) ? fill : values[i]) - mean;
    ss += d * d;
  }
  let sd = n > 0 ? Math.sqrt(ss / n) : 0;
  // Values near the float64 limit overflow the sum of squares; their spread is then taken as their range.
  if (!Number.isFinite(sd) || !Number.isFinite(mean)) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < kept.length; i++) {
      lo = Math.min(lo, kept[i] / 2);
      hi = Math.max(hi, kept[i] / 2);
    }
    mean = lo + hi; // the midpoint
    sd = hi - lo; // half the range
  }
  // A constant column keeps scale 1: its standardised value is 0 everywhere, so it cannot hurt.
  return {
    fill,
    center: mean,
    scale: sd > 1e-12 * Math.max(1, Math.abs(mean)) ? sd : 1,
    missing: present < n,
  };
}

function fitNumeric(col: NumberColumn, rows: Int32Array, mode: FeaturizerMode, offset: number): NumericState {
  const type = col.type as NumericState['type'];
  const v = new Float64Array(rows.length);
  for (let j = 0; j < rows.length; j++) v[j] = col.values[rows[j]];
  if (mode === 'trees') {
    return {
      kind: 'numeric',
      name: col.name,
      offset,
      type,
      fill: null,
      center: 0,
      scale: 1,
      missingIndicator: false,
    };
  }
  const s = imputeScale(v);
  return {
    kind: 'numeric',
    name: col.name,
    offset,
    type,
    fill: s.fill,
    center: s.center,
    scale: s.scale,
    missingIndicator: s.missing,
  };
}

/** hour, day of week, month, year of an epoch-ms instant, in UTC; NaN in → NaN out. */
function datetimeParts(ms: number, out: Float64Array): void {
  if (Number.isNaN(ms)) {
    out.fill(Number.NaN);
    return;
  }
  const d = new Date(ms);
  out[0] = d.getUTCHours();
  out[1] = d.getUTCDay();
  out[2] = d.getUTCMonth() + 1;
  out[3] = d.getUTCFullYear();
}

function fitDatetime(
  col: NumberColumn,
  rows: Int32Array,
  mode: FeaturizerMode,
  offset: number,
): DatetimeState {
  if (mode === 'trees') {
    return {
      kind: 'datetime',
      name: col.name,
      offset,
      fill: null,
      center: [0, 0, 0, 0],
      scale: [1, 1, 1, 1],
      missingIndicator: false,
    };
  }
  const parts = DATETIME_PARTS.map(() => new Float64Array(rows.length));
  const tmp = new Float64Array(4);
  for (let j = 0; j < rows.length; j++) {
    datetimeParts(col.values[rows[j]], tmp);
    for (let p = 0; p < 4; p++) parts[p][j] = tmp[p];
  }
  const fitted = parts.map(imputeScale);
  return {
    kind: 'datetime',
    name: col.name,
    offset,
    fill: fitted.map((f) => f.fill),
    center: fitted.map((f) => f.center),
    scale: fitted.map((f) => f.scale),
    missingIndicator: fitted[0].missing,
  };
}

function fitCategorical(
  name: string,
  values: (string | null)[],
  rows: Int32Array,
  maxCategories: number,
  minFrequency: number,
  offset: number,
): CategoricalState {
  const counts = new Map<string, number>();
  let missing = false;
  for (const i of rows) {
    const v = values[i];
    if (v === null) missing = true;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  // Most frequent first; ties broken by the value so that the state is byte-for-byte reproducible.
  const categories = [...counts.entries()]
    .filter(([, c]) => c >= minFrequency)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxCategories)
    .map(([v]) => v);
  return { kind: 'categorical', name, offset, categories, missingIndicator: missing };
}

function fitText(name: string, values: (string | null)[], rows: Int32Array, bits: number): TextState {
  const df = new Map<number, number>();
  for (const i of rows) {
    const v = values[i];
    if (v === null) continue;
    const { buckets } = hashedCounts(v, bits);
    for (let j = 0; j < buckets.length; j++) df.set(buckets[j], (df.get(buckets[j]) ?? 0) + 1);
  }
  const dfBuckets = [...df.keys()].sort((a, b) => a - b);
  const counts = dfBuckets.map((b) => df.get(b) as number);
  return { kind: 'text', name, offset: 0, bits, nDocs: rows.length, dfBuckets, df: counts };
}

// ---------------------------------------------------------------------------------------------------
// Names and input schema

export function featureNames(state: FeaturizerState): string[] {
  const out: string[] = [];
  for (const c of state.columns) {
    switch (c.kind) {
      case 'numeric':
        out.push(c.name);
        if (c.missingIndicator) out.push(`${c.name}__missing`);
        break;
      case 'datetime':
        for (const p of DATETIME_PARTS) out.push(`${c.name}.${p}`);
        if (c.missingIndicator) out.push(`${c.name}__missing`);
        break;
      case 'categorical':
        for (const v of c.categories) out.push(`${c.name}=${v}`);
        out.push(`${c.name}=__other__`);
        if (c.missingIndicator) out.push(`${c.name}__missing`);
        break;
      case 'text':
        for (let b = 0; b < 1 << c.bits; b++) out.push(`${c.name}#${b}`);
        break;
    }
  }
  return out;
}

/** The input features a prediction request may carry, with their types, in column order. */
export function inputSchema(state: FeaturizerState): { name: string; type: ColumnType }[] {
  return state.columns.map((c) => ({
    name: c.name,
    type: c.kind === 'numeric' ? c.type : c.kind === 'datetime' ? 'datetime' : c.kind,
  }));
}

// ---------------------------------------------------------------------------------------------------
// Transforming

const idfCache = new WeakMap<TextState, Float64Array>();
function idfTable(st: TextState): Float64Array {
  let t = idfCache.get(st);
  if (!t) {
    const n = st.nDocs;
    t = new Float64Array(1 << st.bits).fill(Math.log(1 + n) + 1);
    for (let j = 0; j < st.dfBuckets.length; j++) t[st.dfBuckets[j]] = Math.log((1 + n) / (1 + st.df[j])) + 1;
    idfCache.set(st, t);
  }
  return t;
}

const categoryCache = new WeakMap<CategoricalState, Map<string, number>>();
function categoryIndex(st: CategoricalState): Map<string, number> {
  let m = categoryCache.get(st);
  if (!m) {
    m = new Map(st.categories.map((c, k) => [c, k]));
    categoryCache.set(st, m);
  }
  return m;
}

/** Writes the dense features of column `st` for the given frame rows into `out` (row stride `stride`). */
function fillDense(
  st: ColumnState,
  col: FrameColumn | undefined,
  rows: Int32Array | null,
  n: number,
  out: Float64Array,
  stride: number,
): void {
  const at = (r: number): number => (rows ? rows[r] : r);
  if (st.kind === 'numeric') {
    const v = col && col.kind === 'number' ? col.values : null;
    for (let r = 0; r < n; r++) {
      const x = v ? v[at(r)] : Number.NaN;
      const o = r * stride + st.offset;
      if (st.fill === null) out[o] = x;
      else {
        const miss = Number.isNaN(x);
        out[o] = ((miss ? st.fill : x) - st.center) / st.scale;
        if (st.missingIndicator) out[o + 1] = miss ? 1 : 0;
      }
    }
  } else if (st.kind === 'datetime') {
    const v = col && col.kind === 'number' ? col.values : null;
    const parts = new Float64Array(4);
    for (let r = 0; r < n; r++) {
      const x = v ? v[at(r)] : Number.NaN;
      datetimeParts(x, parts);
      const o = r * stride + st.offset;
      const miss = Number.isNaN(x);
      for (let p = 0; p < 4; p++) {
        out[o + p] =
          st.fill === null ? parts[p] : ((miss ? st.fill[p] : parts[p]) - st.center[p]) / st.scale[p];
      }
      if (st.missingIndicator) out[o + 4] = miss ? 1 : 0;
    }
  } else if (st.kind === 'categorical') {
    const v = col && col.kind === 'string' ? col.values : null;
    const index = categoryIndex(st);
    const k = st.categories.length;
    for (let r = 0; r < n; r++) {
      const x = v ? v[at(r)] : null;
      const o = r * stride + st.offset;
      if (x === null && st.missingIndicator) out[o + k + 1] = 1;
      else {
        const j = x === null ? undefined : index.get(x);
        out[o + (j === undefined ? k : j)] = 1;
      }
    }
  }
}

/** One text cell's normalised tf-idf entries (buckets ascending). */
function textEntries(st: TextState, text: string | null): { buckets: Int32Array; values: Float64Array } {
  if (text === null) return { buckets: new Int32Array(0), values: new Float64Array(0) };
  const { buckets, counts } = hashedCounts(text, st.bits);
  const idf = idfTable(st);
  let norm = 0;
  for (let j = 0; j < buckets.length; j++) {
    counts[j] = (1 + Math.log(counts[j])) * idf[buckets[j]];
    norm += counts[j] * counts[j];
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let j = 0; j < counts.length; j++) counts[j] /= norm;
  return { buckets, values: counts };
}

/**
 * A frame column read the way the fitted state expects. A tuned model's featurizer may meet a dataset
 * whose schema typed a column differently (zip codes as numbers here, as categories there): numbers are
 * then read from the strings, and strings spelled from the numbers, instead of reading as all missing.
 */
function alignColumn(st: ColumnState, col: FrameColumn | undefined): FrameColumn | undefined {
  if (!col) return col;
  const wantNumber = st.kind === 'numeric' || st.kind === 'datetime';
  if (wantNumber && col.kind === 'string') {
    const type: NumberColumn['type'] = st.kind === 'datetime' ? 'datetime' : st.type;
    const values = new Float64Array(col.values.length);
    for (let i = 0; i < values.length; i++) values[i] = readNumberCell(col.values[i], type);
    return { kind: 'number', name: col.name, type, values };
  }
  if (!wantNumber && col.kind === 'number') {
    const values = new Array<string | null>(col.values.length);
    for (let i = 0; i < values.length; i++) {
      const x = col.values[i];
      values[i] = Number.isNaN(x)
        ? null
        : col.type === 'boolean'
          ? x === 1
            ? 'true'
            : 'false'
          : col.type === 'datetime'
            ? new Date(x).toISOString()
            : String(x);
    }
    return { kind: 'string', name: col.name, type: st.kind === 'text' ? 'text' : 'categorical', values };
  }
  if (wantNumber && col.kind === 'number' && (st.kind === 'datetime') !== (col.type === 'datetime')) {
    return { ...col, values: new Float64Array(col.values.length).fill(Number.NaN) };
  }
  return col;
}

/**
 * Featurises the given rows of a frame (all rows when `rows` is omitted), or raw JSON instances (then as
 * `transformInstances`). A column the state knows but the frame lacks reads as missing everywhere.
 * Linear mode with text gives CSR; everything else is dense.
 */
export function transform(state: FeaturizerState, input: Frame | unknown[], rows?: Int32Array): Matrix {
  // Raw JSON instances take the checked path; its report of unknown keys is dropped here.
  if (Array.isArray(input)) return transformInstances(state, input).X;
  const frame = input;
  const n = rows ? rows.length : frame.nRows;
  const sel = rows ?? null;
  const cols = state.columns.map((c) => alignColumn(c, getColumn(frame, c.name)));
  const texts = state.columns.filter((c): c is TextState => c.kind === 'text');
  const sparse = state.mode === 'linear' && texts.length > 0;
  const stride = sparse ? state.nDense : state.nFeatures;
  const data = new Float64Array(n * stride);
  for (let c = 0; c < state.columns.length; c++) {
    const st = state.columns[c];
    if (st.kind !== 'text') fillDense(st, cols[c], sel, n, data, stride);
  }
  if (!sparse) {
    for (let c = 0; c < state.columns.length; c++) {
      const st = state.columns[c];
      if (st.kind !== 'text') continue;
      const col = cols[c];
      const v = col && col.kind === 'string' ? col.values : null;
      for (let r = 0; r < n; r++) {
        const e = textEntries(st, v ? v[sel ? sel[r] : r] : null);
        const o = r * stride + st.offset;
        for (let j = 0; j < e.buckets.length; j++) data[o + e.buckets[j]] = e.values[j];
      }
    }
    return { kind: 'dense', rows: n, cols: state.nFeatures, data };
  }
  const textCols = state.columns.map((st, c) => ({ st, col: cols[c] })).filter((x) => x.st.kind === 'text');
  const indptr = new Int32Array(n + 1);
  let indices = new Int32Array(Math.max(16, n * 8));
  let values = new Float64Array(indices.length);
  let nnz = 0;
  const grow = (need: number): void => {
    if (need <= indices.length) return;
    const cap = Math.max(need, indices.length * 2);
    const i2 = new Int32Array(cap);
    i2.set(indices.subarray(0, nnz));
    const v2 = new Float64Array(cap);
    v2.set(values.subarray(0, nnz));
    indices = i2;
    values = v2;
  };
  const nd = state.nDense;
  for (let r = 0; r < n; r++) {
    grow(nnz + nd);
    for (let j = 0; j < nd; j++) {
      const x = data[r * nd + j];
      if (x !== 0) {
        indices[nnz] = j;
        values[nnz++] = x;
      }
    }
    for (const { st, col } of textCols) {
      const v = col && col.kind === 'string' ? col.values : null;
      const e = textEntries(st as TextState, v ? v[sel ? sel[r] : r] : null);
      grow(nnz + e.buckets.length);
      for (let j = 0; j < e.buckets.length; j++) {
        indices[nnz] = st.offset + e.buckets[j];
        values[nnz++] = e.values[j];
      }
    }
    indptr[r + 1] = nnz;
  }
  return {
    kind: 'csr',
    rows: n,
    cols: state.nFeatures,
    indptr,
    indices: indices.slice(0, nnz),
    values: values.slice(0, nnz),
  };
}

export interface InstancesResult {
  X: Matrix;
  /** Keys of the instances that are not features of the model, sorted: ignored, reported so the API can warn. */
  unknownFeatures: string[];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

// A state's column names, made once per state, not per call: the predict path featurizes a row a request.
const knownColumns = new WeakMap<FeaturizerState, ReadonlySet<string>>();
function knownOf(state: FeaturizerState): ReadonlySet<string> {
  let known = knownColumns.get(state);
  if (!known) {
    known = new Set(state.columns.map((c) => c.name));
    knownColumns.set(state, known);
  }
  return known;
}

/**
 * Featurises raw JSON instances at prediction time. A missing feature is imputed like a missing training
 * value; a value of the wrong type throws validation_failed naming the feature and the instance index.
 */
export function transformInstances(state: FeaturizerState, instances: unknown[]): InstancesResult {
  const n = instances.length;
  const errors: FieldError[] = [];
  let unknown: Set<string> | undefined; // made for the first key that is not a column
  const known = knownOf(state);
  const columns: FrameColumn[] = state.columns.map((st) => {
    if (st.kind === 'numeric' || st.kind === 'datetime') {
      const type: NumberColumn['type'] = st.kind === 'datetime' ? 'datetime' : st.type;
      return { kind: 'number', name: st.name, type, values: new Float64Array(n).fill(Number.NaN) };
    }
    return { kind: 'string', name: st.name, type: st.kind, values: new Array<string | null>(n).fill(null) };
  });
  const fail = (e: FieldError): void => {
    if (errors.length < MAX_FIELD_ERRORS) errors.push(e);
  };
  for (let i = 0; i < n; i++) {
    const inst = instances[i];
    if (inst === null || typeof inst !== 'object' || Array.isArray(inst)) {
      fail({ field: 'instances', index: i, message: `an instance must be an object, got ${describe(inst)}` });
      continue;
    }
    const rec = inst as Record<string, unknown>;
    for (const key in rec) {
      if (!Object.hasOwn(rec, key) || known.has(key)) continue;
      unknown ??= new Set();
      unknown.add(key);
    }
    for (const col of columns) {
      const v = rec[col.name];
      if (v === undefined || v === null) continue;
      if (typeof v === 'object') {
        fail({ field: col.name, index: i, message: `expected a ${col.type} value, got ${describe(v)}` });
        continue;
      }
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        fail({ field: col.name, index: i, message: `expected a ${col.type} value, got ${describe(v)}` });
        continue;
      }
      const cell = v as RawCell;
      if (col.kind === 'string') {
        col.values[i] = readStringCell(cell);
        continue;
      }
      if (typeof v === 'number' && Number.isNaN(v)) continue;
      if (typeof v === 'string' && readStringCell(v) === null) continue; // an explicit "no value"
      // Instants may also come as epoch milliseconds; a number for a numeric column must be finite.
      const x =
        col.type === 'datetime' && typeof v === 'number'
          ? Number.isFinite(v)
            ? v
            : Number.NaN
          : readNumberCell(cell, col.type);
      const wrongBoolForNumber = typeof v === 'boolean' && col.type !== 'boolean';
      if (Number.isNaN(x) || wrongBoolForNumber) {
        const want =
          col.type === 'boolean'
            ? 'a boolean'
            : col.type === 'datetime'
              ? 'an ISO-8601 date-time'
              : 'a number';
        fail({ field: col.name, index: i, message: `expected ${want}, got ${describe(v)}` });
        continue;
      }
      col.values[i] = x;
    }
  }
  if (errors.length > 0) {
    throw new AppError(
      'validation_failed',
      `${errors.length === MAX_FIELD_ERRORS ? 'at least ' : ''}${errors.length} instance value(s) are not valid`,
      { errors },
    );
  }
  const X = transform(state, { nRows: n, columns });
  return { X, unknownFeatures: unknown ? [...unknown].sort() : [] };
}

/** A dense copy of any matrix (CSR zeros become 0, never NaN). */
export function toDense(m: Matrix): DenseMatrix {
  if (m.kind === 'dense') return m;
  const data = new Float64Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) data[r * m.cols + m.indices[p]] = m.values[p];
  }
  return { kind: 'dense', rows: m.rows, cols: m.cols, data };
}

/** Rows `idx` of a matrix, in that order. */
export function selectRows(m: Matrix, idx: Int32Array): Matrix {
  if (m.kind === 'dense') {
    const data = new Float64Array(idx.length * m.cols);
    for (let r = 0; r < idx.length; r++)
      data.set(m.data.subarray(idx[r] * m.cols, (idx[r] + 1) * m.cols), r * m.cols);
    return { kind: 'dense', rows: idx.length, cols: m.cols, data };
  }
  const indptr = new Int32Array(idx.length + 1);
  for (let r = 0; r < idx.length; r++) indptr[r + 1] = indptr[r] + (m.indptr[idx[r] + 1] - m.indptr[idx[r]]);
  const nnz = indptr[idx.length];
  const indices = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let r = 0; r < idx.length; r++) {
    const a = m.indptr[idx[r]];
    const b = m.indptr[idx[r] + 1];
    indices.set(m.indices.subarray(a, b), indptr[r]);
    values.set(m.values.subarray(a, b), indptr[r]);
  }
  const out: CsrMatrix = { kind: 'csr', rows: idx.length, cols: m.cols, indptr, indices, values };
  return out;
}
