// Pooling for shared training: the frames of consenting tenants' dataset versions become one frame with
// identifying columns dropped, identifying values inside strings replaced by type tokens, and an optional
// per-tenant row cap, recording what each tenant gave and why a part was left out. Pure: frames in, frame out.
import { scrubText } from '../core/identifying.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../core/types.ts';
import { type Frame, type FrameColumn, getColumn } from './frame.ts';
import { createRng } from './rng.ts';

export interface PoolPart {
  tenantId: string;
  dataset: string;
  version: number;
  schema: DatasetSchema;
  frame: Frame;
}

export interface PoolOptions {
  target: string;
  /** The feature columns; default: those present with a compatible type in at least half of the parts. */
  features?: string[];
  /** Labelled rows taken at most per part (a seeded uniform sample without replacement). */
  maxRowsPerTenant?: number;
  seed: number;
}

export interface PoolContribution {
  tenantId: string;
  dataset: string;
  version: number;
  /** Rows actually taken into the pooled frame. */
  rows: number;
}

export interface PoolExclusion {
  tenantId: string;
  dataset: string;
  version: number;
  reason: string;
}

export interface PooledData {
  /** The chosen features, then the target; parts' rows one after another in the order of `contributions`. */
  frame: Frame;
  schema: DatasetSchema;
  contributions: PoolContribution[];
  excluded: PoolExclusion[];
  deidentification: {
    /** Columns dropped because some part's schema flags them identifying (sorted). */
    droppedColumns: string[];
    /** Type token → how many values inside string cells it replaced. */
    replaced: Record<string, number>;
  };
}

/** The tokens scrubText writes, counted in `replaced`. */
export const SCRUB_TOKENS = ['EMAIL_ADDRESS', 'URL', 'IP_ADDRESS', 'CREDIT_CARD', 'PHONE_NUMBER'] as const;

/** integer and numeric pool together (as numeric); every other type only with itself. */
function typeGroup(t: ColumnType): string {
  return t === 'integer' || t === 'numeric' ? 'number' : t;
}

interface Candidate {
  part: PoolPart;
  /** Labelled rows of the part (target present), ascending. */
  labelled: number[];
}

function hasValue(col: FrameColumn, i: number): boolean {
  return col.kind === 'number' ? !Number.isNaN(col.values[i]) : col.values[i] !== null;
}

/** A seed per tenant, so a tenant's sample does not depend on which other tenants are in the pool. */
function partSeed(seed: number, p: PoolPart): number {
  let h = seed >>> 0;
  for (const ch of `${p.tenantId}\u0000${p.dataset}\u0000${p.version}`) {
    h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  return h;
}

function sample(rows: number[], cap: number | undefined, seed: number): number[] {
  if (cap === undefined || rows.length <= cap) return rows;
  // Partial Fisher–Yates: the first `cap` positions are a uniform sample without replacement.
  const rng = createRng(seed);
  const a = rows.slice();
  for (let i = 0; i < cap; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, cap).sort((x, y) => x - y);
}

/** The most common type group among the given types (first seen wins a tie), and the pooled type. */
function majorityType(types: ColumnType[]): { group: string; count: number; type: ColumnType } | null {
  const counts = new Map<string, { count: number; types: Set<ColumnType> }>();
  for (const t of types) {
    const g = typeGroup(t);
    const e = counts.get(g) ?? { count: 0, types: new Set<ColumnType>() };
    e.count++;
    e.types.add(t);
    counts.set(g, e);
  }
  let best: { group: string; count: number; type: ColumnType } | null = null;
  for (const [group, e] of counts) {
    if (!best || e.count > best.count) {
      const type: ColumnType =
        group === 'number' ? (e.types.has('numeric') ? 'numeric' : 'integer') : (group as ColumnType);
      best = { group, count: e.count, type };
    }
  }
  return best;
}

export function poolFrames(parts: PoolPart[], opts: PoolOptions): PooledData {
  const { target } = opts;
  if (
    opts.maxRowsPerTenant !== undefined &&
    !(Number.isInteger(opts.maxRowsPerTenant) && opts.maxRowsPerTenant > 0)
  ) {
    throw new Error('maxRowsPerTenant must be a positive integer');
  }
  if (opts.features?.includes(target)) throw new Error(`the target '${target}' cannot also be a feature`);
  const excluded: PoolExclusion[] = [];
  const exclude = (p: PoolPart, reason: string): void => {
    excluded.push({ tenantId: p.tenantId, dataset: p.dataset, version: p.version, reason });
  };
  const colSchema = (p: PoolPart, name: string): ColumnSchema | undefined =>
    p.schema.columns.find((c) => c.name === name);
  const colType = (p: PoolPart, name: string): ColumnType | undefined => getColumn(p.frame, name)?.type;

  // Identifying anywhere means dropped everywhere: one tenant's flag protects every tenant's column.
  const identifying = new Set<string>();
  for (const p of parts) for (const c of p.schema.columns) if (c.identifying) identifying.add(c.name);
  identifying.delete(target);

  // The target: present, not identifying for that part, of the type most parts give it, with labels.
  const targetType = majorityType(
    parts.filter((p) => colType(p, target) !== undefined).map((p) => colType(p, target) as ColumnType),
  );
  let eligible: Candidate[] = [];
  for (const p of parts) {
    const col = getColumn(p.frame, target);
    if (!col) {
      exclude(p, `the target column '${target}' is missing`);
      continue;
    }
    if (colSchema(p, target)?.identifying) {
      exclude(p, `the target column '${target}' is flagged identifying in this dataset`);
      continue;
    }
    if (targetType && typeGroup(col.type) !== targetType.group) {
      exclude(p, `the target column '${target}' is ${col.type}, the pool's is ${targetType.type}`);
      continue;
    }
    const labelled: number[] = [];
    for (let i = 0; i < p.frame.nRows; i++) if (hasValue(col, i)) labelled.push(i);
    if (labelled.length === 0) {
      exclude(p, `the target column '${target}' has no values`);
      continue;
    }
    eligible.push({ part: p, labelled });
  }

  // Features: asked for, or those the majority of eligible parts share with a compatible type.
  const dropped = new Set<string>();
  let features: { name: string; type: ColumnType; group: string }[] = [];
  const names: string[] = [];
  if (opts.features) names.push(...opts.features);
  else {
    for (const { part } of eligible)
      for (const c of part.frame.columns)
        if (c.name !== target && !names.includes(c.name)) names.push(c.name);
  }
  for (const name of names) {
    if (identifying.has(name)) {
      dropped.add(name);
      continue;
    }
    const types = eligible.map((e) => colType(e.part, name)).filter((t): t is ColumnType => t !== undefined);
    const m = majorityType(types);
    if (opts.features) {
      if (m) features.push({ name, type: m.type, group: m.group });
      else features.push({ name, type: 'numeric', group: '(absent)' });
    } else if (m && m.count * 2 >= eligible.length) {
      features.push({ name, type: m.type, group: m.group });
    }
  }
  // Columns flagged identifying but never chosen as features are dropped too (they exist in some part).
  for (const name of identifying) {
    if (eligible.some((e) => getColumn(e.part.frame, name))) dropped.add(name);
  }

  // Parts that cannot give every feature in its pooled type are left out whole: a hole per tenant would
  // let the model learn who the tenant is from which columns are missing.
  eligible = eligible.filter((e) => {
    for (const f of features) {
      const t = colType(e.part, f.name);
      if (t === undefined) {
        exclude(e.part, `the feature column '${f.name}' is missing`);
        return false;
      }
      if (typeGroup(t) !== f.group) {
        exclude(e.part, `the feature column '${f.name}' is ${t}, the pool's is ${f.type}`);
        return false;
      }
    }
    return true;
  });
  if (eligible.length === 0) features = features.filter((f) => f.group !== '(absent)');

  const taken = eligible.map((e) => ({
    part: e.part,
    rows: sample(e.labelled, opts.maxRowsPerTenant, partSeed(opts.seed, e.part)),
  }));
  const n = taken.reduce((s, t) => s + t.rows.length, 0);
  const replaced: Record<string, number> = {};
  const scrubCache = new Map<string, { text: string; counts: [string, number][] }>();
  const scrub = (s: string): string => {
    let hit = scrubCache.get(s);
    if (!hit) {
      const text = scrubText(s);
      const counts: [string, number][] = [];
      if (text !== s) {
        for (const tok of SCRUB_TOKENS) {
          // Tokens already present in the input were not replacements.
          const k = countOf(text, `<${tok}>`) - countOf(s, `<${tok}>`);
          if (k > 0) counts.push([tok, k]);
        }
      }
      hit = { text, counts };
      // Bounded: free text rarely repeats, categories always do.
      if (scrubCache.size < 100_000) scrubCache.set(s, hit);
    }
    for (const [tok, k] of hit.counts) replaced[tok] = (replaced[tok] ?? 0) + k;
    return hit.text;
  };

  const tType = targetType?.type ?? 'numeric';
  const out: { name: string; type: ColumnType }[] = [...features, { name: target, type: tType }];
  const columns: FrameColumn[] = out.map(({ name, type }) => {
    if (type === 'categorical' || type === 'text') {
      const values: (string | null)[] = new Array(n);
      let k = 0;
      for (const t of taken) {
        const col = getColumn(t.part.frame, name) as FrameColumn;
        for (const i of t.rows) {
          const v = col.values[i] as string | null;
          values[k++] = v === null ? null : scrub(v);
        }
      }
      return { kind: 'string', name, type, values };
    }
    const values = new Float64Array(n);
    let k = 0;
    for (const t of taken) {
      const col = getColumn(t.part.frame, name) as FrameColumn;
      for (const i of t.rows) values[k++] = col.values[i] as number;
    }
    return { kind: 'number', name, type: type as 'numeric' | 'integer' | 'boolean' | 'datetime', values };
  });

  return {
    frame: { nRows: n, columns },
    schema: { columns: columns.map(schemaOf) },
    contributions: taken.map((t) => ({
      tenantId: t.part.tenantId,
      dataset: t.part.dataset,
      version: t.part.version,
      rows: t.rows.length,
    })),
    excluded,
    deidentification: { droppedColumns: [...dropped].sort(), replaced },
  };
}

function countOf(s: string, token: string): number {
  let k = 0;
  for (let at = s.indexOf(token); at >= 0; at = s.indexOf(token, at + token.length)) k++;
  return k;
}

const DISTINCT_CAP = 10_000;

/** Statistics recomputed on the pooled cells; nothing kept is identifying. */
function schemaOf(col: FrameColumn): ColumnSchema {
  let missing = 0;
  const distinct = new Set<string | number>();
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of col.values) {
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) {
      missing++;
      continue;
    }
    if (distinct.size <= DISTINCT_CAP) distinct.add(v);
    if (typeof v === 'number') {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const out: ColumnSchema = {
    name: col.name,
    type: col.type,
    nullable: missing > 0,
    missing,
    distinct: Math.min(distinct.size, DISTINCT_CAP),
    distinctApprox: distinct.size > DISTINCT_CAP,
    identifying: false,
    identifyingReasons: [],
  };
  if ((col.type === 'numeric' || col.type === 'integer') && min <= max) {
    out.min = min;
    out.max = max;
  }
  return out;
}
