// Prediction instances against a model's input schema, before anything runs. The predict API is stricter
// than a dataset upload: every feature must be present (null says "unknown" and is imputed like a
// missing training value), a key the model does not know is refused, and a numeric feature takes a
// finite number (or a string spelling one) — never "NaN", "NA" or "". Errors name instance index and field.
import { AppError, type FieldError } from '../../core/errors.ts';
import { toDense, transformInstances } from '../../ml/featurizer.ts';
import type { ModelSpec } from '../../runtime/loaded-model.ts';

const MAX_ERRORS = 50;
const NUMBER_RE = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const BOOLEAN_STRINGS = new Set(['true', 'false', '0', '1', 'yes', 'no']);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Why `v` is not a value of a feature of type `type`, or null when it is one. */
function valueProblem(type: string, v: unknown): string | null {
  if (v === null) return null;
  switch (type) {
    case 'numeric':
    case 'integer':
      if (typeof v === 'number') return Number.isFinite(v) ? null : 'expected a finite number';
      if (typeof v === 'string')
        return NUMBER_RE.test(v)
          ? null
          : `expected a number, got the string ${JSON.stringify(v.slice(0, 40))}`;
      return `expected a number, got ${describe(v)}`;
    case 'boolean':
      if (typeof v === 'boolean') return null;
      if (typeof v === 'number') return v === 0 || v === 1 ? null : 'expected a boolean';
      if (typeof v === 'string')
        return BOOLEAN_STRINGS.has(v.trim().toLowerCase()) ? null : 'expected a boolean';
      return `expected a boolean, got ${describe(v)}`;
    case 'datetime':
      if (typeof v === 'number') return Number.isFinite(v) ? null : 'expected a date-time';
      if (typeof v === 'string') return Number.isNaN(Date.parse(v)) ? 'expected an ISO-8601 date-time' : null;
      return `expected an ISO-8601 date-time, got ${describe(v)}`;
    default:
      // categorical and text: a string; numbers and booleans are spelled as strings
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return null;
      return `expected a string, got ${describe(v)}`;
  }
}

// A spec's feature map is built once, not per request: the predict path checks one row at a time.
const featureMaps = new WeakMap<ModelSpec, ReadonlyMap<string, string>>();
function featuresOf(spec: ModelSpec): ReadonlyMap<string, string> {
  let m = featureMaps.get(spec);
  if (!m) {
    m = new Map(spec.inputSchema.map((f) => [f.name, f.type]));
    featureMaps.set(spec, m);
  }
  return m;
}

/**
 * Checks every instance and throws one validation_failed listing (up to 50 of) the problems. `ignored`
 * are keys that are accepted and not used: columns of the training data the model left out (its target,
 * identifying columns).
 */
export function checkInstances(spec: ModelSpec, instances: unknown[], ignored: ReadonlySet<string>): void {
  const errors: FieldError[] = [];
  const fail = (e: FieldError): boolean => {
    errors.push(e);
    return errors.length >= MAX_ERRORS;
  };
  const features = featuresOf(spec);
  outer: for (let i = 0; i < instances.length; i++) {
    const inst = instances[i];
    if (inst === null || typeof inst !== 'object' || Array.isArray(inst)) {
      if (
        fail({
          index: i,
          field: `instances[${i}]`,
          message: `an instance must be an object, got ${describe(inst)}`,
        })
      )
        break;
      continue;
    }
    const rec = inst as Record<string, unknown>;
    for (const key of Object.keys(rec)) {
      if (!features.has(key) && !ignored.has(key)) {
        if (fail({ index: i, field: key, message: 'is not a feature of this model' })) break outer;
      }
    }
    for (const [name, type] of features) {
      if (!Object.hasOwn(rec, name)) {
        if (fail({ index: i, field: name, message: 'is missing (send null when the value is unknown)' }))
          break outer;
        continue;
      }
      const problem = valueProblem(type, rec[name]);
      if (problem && fail({ index: i, field: name, message: problem })) break outer;
    }
  }
  if (errors.length > 0) {
    throw new AppError(
      'validation_failed',
      `${errors.length >= MAX_ERRORS ? 'at least ' : ''}${errors.length} problem(s) in the instances; each names its index and field`,
      { errors },
    );
  }
}

/** The model's float32 input, row-major [instances × features], from checked instances. */
export function inputMatrix(spec: ModelSpec, instances: unknown[]): Float32Array {
  if (spec.featurizer) {
    const X = toDense(transformInstances(spec.featurizer, instances).X);
    return Float32Array.from(X.data);
  }
  // Imported models: the instance's numbers in input-schema order; null is NaN.
  const cols = spec.inputSchema.length;
  const out = new Float32Array(instances.length * cols);
  for (let i = 0; i < instances.length; i++) {
    const rec = instances[i] as Record<string, unknown>;
    for (let c = 0; c < cols; c++) {
      const v = rec[spec.inputSchema[c].name];
      out[i * cols + c] = v === null || v === undefined ? Number.NaN : Number(v);
    }
  }
  return out;
}
