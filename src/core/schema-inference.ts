// Infers a dataset's schema while its rows stream past, batch by batch, in constant memory per column.
// Cells are read through core/cells.ts, so a column typed here reads the same at training and prediction.
// The rule is documented in docs/datasets.md ("Schema inference"); keep the two in step.
import {
  cellText,
  isInteger,
  isMissing,
  parseBoolean,
  parseDatetime,
  parseNumber,
  type RawCell,
} from './cells.ts';
import { ContentDetector, identifyingByName } from './identifying.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from './types.ts';

export interface InferenceOptions {
  /** Distinct values counted exactly up to this many; beyond it the count is an estimate. */
  distinctCap?: number;
  /** Cells of each column checked for identifying content: the first `sampleHead`… */
  sampleHead?: number;
  /** …then one in every `sampleEvery` after them… */
  sampleEvery?: number;
  /** …up to this many in all. */
  sampleMax?: number;
  /** Share of sampled cells that must match for a column to be flagged by content. */
  identifyingThreshold?: number;
}

const DEFAULTS: Required<InferenceOptions> = {
  distinctCap: 10_000,
  sampleHead: 1_000,
  sampleEvery: 100,
  sampleMax: 5_000,
  identifyingThreshold: 0.3,
};

/** String columns: at most this many distinct values is always categorical. */
export const FEW_DISTINCT = 50;
/** String columns: a mean length above this (characters) is text. */
export const LONG_TEXT = 40;
/** String columns: distinct values above this share of non-missing cells, with whitespace, is text. */
export const MANY_DISTINCT_SHARE = 0.5;

// --- distinct counting past the cap: a HyperLogLog with 2^12 registers (about 1.6% standard error) ---

const HLL_BITS = 12;
const HLL_M = 1 << HLL_BITS;

function hash32(s: string): number {
  // FNV-1a over two UTF-16 units per step (half the loop of one per step), then the murmur3 finalizer
  // to spread the bits that HyperLogLog reads.
  let h = 0x811c9dc5 ^ s.length;
  const n = s.length - 1;
  let i = 0;
  for (; i < n; i += 2) {
    h ^= s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    h = Math.imul(h, 0x01000193);
  }
  if (i === n) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

class HyperLogLog {
  private readonly reg = new Uint8Array(HLL_M);

  add(s: string): void {
    const h = hash32(s);
    const idx = h >>> (32 - HLL_BITS);
    const rest = (h << HLL_BITS) >>> 0;
    const rank = rest === 0 ? 32 - HLL_BITS + 1 : Math.clz32(rest) + 1;
    if (rank > this.reg[idx]) this.reg[idx] = rank;
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < HLL_M; i++) {
      sum += 2 ** -this.reg[i];
      if (this.reg[i] === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / HLL_M);
    const raw = (alpha * HLL_M * HLL_M) / sum;
    if (raw <= 2.5 * HLL_M && zeros > 0) return Math.round(HLL_M * Math.log(HLL_M / zeros));
    return Math.round(raw);
  }
}

// What one distinct cell value reads as, as bits. Each column keeps a map from its distinct values (up
// to the cap) to these, so a value that repeats is read once: the map is both the exact distinct
// count and a memo of the parsers in cells.ts.
const MISSING = 1;
const BOOL = 2;
const BINARY = 4;
const NUM = 8;
const INT = 16;
const DATE = 32;
const SPACE = 64;
const TYPE_BITS = BOOL | BINARY | NUM | INT | DATE;

const WORDS_RE = /\S\s+\S/;

/** The number the last classify() call read (valid when it returned NUM); saves an object per cell. */
let lastNumber = 0;

/** Reads a cell as every type still possible for its column (`need`); other type bits stay unset. */
function classify(v: RawCell, text: string, need: number): number {
  if (need & NUM) {
    const n = parseNumber(v);
    if (n !== undefined) {
      // A number is never missing, never a date and has no inner whitespace; only 0/1 can be boolean.
      lastNumber = n;
      let flags = NUM | (isInteger(n) ? INT : 0);
      if (need & BINARY && parseBoolean(v, true) !== undefined) flags |= BINARY;
      return flags;
    }
  }
  if (isMissing(v)) return MISSING;
  let flags = 0;
  if (need & BOOL && parseBoolean(v, false) !== undefined) flags |= BOOL;
  if (need & BINARY && parseBoolean(v, true) !== undefined) flags |= BINARY;
  if (need & DATE && parseDatetime(v) !== undefined) flags |= DATE;
  if (WORDS_RE.test(text)) flags |= SPACE;
  return flags;
}

/** Everything kept about one column while rows stream past: counters, flags and a bounded memo. */
class ColumnState {
  missing = 0;
  present = 0;
  /** The types every non-missing cell so far reads as (TYPE_BITS). */
  alive = TYPE_BITS;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  textLength = 0;
  withSpace = 0;
  /** Distinct values (missing spellings included, counted apart) until the cap; then null. */
  private memo: Map<string, number> | null = new Map();
  private missingKeys = 0;
  private hll: HyperLogLog | null = null;
  readonly content: ContentDetector;
  private sampled = 0;
  private readonly sampleMax: number;
  private readonly cap: number;

  constructor(
    readonly name: string,
    private readonly o: Required<InferenceOptions>,
  ) {
    this.content = new ContentDetector(o.identifyingThreshold);
    this.sampleMax = o.sampleMax;
    this.cap = o.distinctCap;
  }

  observe(v: RawCell): void {
    if (v === null || v === undefined) {
      this.missing++;
      return;
    }
    const text = typeof v === 'string' ? v : cellText(v);
    if (text === undefined) {
      this.missing++; // NaN (and infinities, which JSON cannot carry)
      return;
    }
    // A value already in the memo was read, counted and folded into min/max when first seen.
    let flags: number;
    let isNew = false;
    const memo = this.memo;
    if (memo !== null) {
      const known = memo.get(text);
      if (known === undefined) {
        flags = classify(v, text, this.alive);
        isNew = true;
        memo.set(text, flags);
        if (flags & MISSING) this.missingKeys++;
        else if (memo.size - this.missingKeys > this.cap) this.spill();
      } else flags = known;
    } else {
      flags = classify(v, text, this.alive);
      isNew = true;
      if (!(flags & MISSING)) this.hll!.add(text);
    }
    if (flags & MISSING) {
      this.missing++;
      return;
    }
    this.present++;
    this.alive &= flags | ~TYPE_BITS;
    if (isNew && this.alive & NUM) {
      if (lastNumber < this.min) this.min = lastNumber;
      if (lastNumber > this.max) this.max = lastNumber;
    }
    if (typeof v === 'string') {
      this.textLength += text.length;
      if (flags & SPACE) this.withSpace++;
      if (this.sampled < this.sampleMax && this.shouldSample()) this.content.observe(text);
    }
  }

  /** Past the cap: the exact map gives way to a HyperLogLog seeded with every value it held. */
  private spill(): void {
    const hll = new HyperLogLog();
    for (const [k, flags] of this.memo!) if (!(flags & MISSING)) hll.add(k);
    this.hll = hll;
    this.memo = null;
  }

  private distinct(): number {
    // An estimate never reports fewer than the cap it went past.
    return this.memo !== null
      ? this.memo.size - this.missingKeys
      : Math.max(this.o.distinctCap + 1, this.hll!.estimate());
  }

  private shouldSample(): boolean {
    const i = this.present;
    if (this.sampled >= this.o.sampleMax) return false;
    if (i > this.o.sampleHead && (i - this.o.sampleHead) % this.o.sampleEvery !== 0) return false;
    this.sampled++;
    return true;
  }

  type(): ColumnType {
    if (this.present === 0) return 'categorical';
    const a = this.alive;
    if (a & (BOOL | BINARY)) return 'boolean';
    if (a & INT) return 'integer';
    if (a & NUM) return 'numeric';
    if (a & DATE) return 'datetime';
    const meanLength = this.textLength / this.present;
    if (meanLength > LONG_TEXT) return 'text';
    const distinct = this.distinct();
    if (distinct <= FEW_DISTINCT) return 'categorical';
    const many = distinct > MANY_DISTINCT_SHARE * this.present;
    if (many && (this.withSpace >= 0.5 * this.present || meanLength > 20)) return 'text';
    return 'categorical';
  }

  schema(): ColumnSchema {
    const type = this.type();
    // A boolean cannot identify anyone, whatever its name says (`mobile`, `has_email` as a flag).
    const byName = type === 'boolean' ? [] : identifyingByName(this.name);
    const byContent = this.content.flagged();
    const reasons = [...byName.map((k) => `name:${k}`), ...byContent.map((k) => `content:${k}`)];
    const col: ColumnSchema = {
      name: this.name,
      type,
      nullable: this.missing > 0,
      missing: this.missing,
      distinct: this.distinct(),
      distinctApprox: this.memo === null,
      identifying: reasons.length > 0,
      identifyingReasons: reasons,
    };
    if (type === 'integer' || type === 'numeric') {
      col.min = this.min;
      col.max = this.max;
    }
    return col;
  }
}

/**
 * Observes rows batch by batch and infers each column's schema. Rows are arrays aligned with the
 * columns; a row shorter than the column list is missing its trailing cells (JSON uploads discover
 * keys as they go: `addColumns` makes earlier rows count as missing there).
 */
export class SchemaInferrer {
  private readonly cols: ColumnState[] = [];
  private readonly o: Required<InferenceOptions>;
  private rowCount = 0;

  constructor(columns: readonly string[] = [], options: InferenceOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.addColumns(columns);
  }

  get rows(): number {
    return this.rowCount;
  }

  get columns(): string[] {
    return this.cols.map((c) => c.name);
  }

  /** Appends columns; rows already observed count as missing in them. */
  addColumns(names: readonly string[]): void {
    for (const name of names) {
      const c = new ColumnState(name, this.o);
      c.missing = this.rowCount;
      this.cols.push(c);
    }
  }

  /** Brings the column list up to `columns` (a list that only ever grows at its end). */
  syncColumns(columns: readonly string[]): void {
    if (columns.length > this.cols.length) this.addColumns(columns.slice(this.cols.length));
  }

  observe(rows: readonly (readonly RawCell[])[]): void {
    const cols = this.cols;
    const width = cols.length;
    for (const row of rows) {
      if (row.length > width)
        throw new Error(`row has ${row.length} cells but only ${width} columns are known`);
      for (let j = 0; j < width; j++) cols[j].observe(row[j]);
    }
    this.rowCount += rows.length;
  }

  finish(): DatasetSchema {
    return { columns: this.cols.map((c) => c.schema()) };
  }
}

/** Infers a schema from rows held in memory (tests, small frames). */
export function inferSchema(
  columns: readonly string[],
  rows: readonly (readonly RawCell[])[],
  options?: InferenceOptions,
): DatasetSchema {
  const inf = new SchemaInferrer(columns, options);
  inf.observe(rows);
  return inf.finish();
}
