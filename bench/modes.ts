// `npm run bench -- modes [--seed N] [--tenants N] [--test-rows N] [--cap N] [--shared-algorithm linear|gbdt|auto]
// [--tuned-params JSON] [--record] [--json FILE]`: tenant-specific,
// shared and tuned models on a generated multitenant problem (bench/modes/data.ts), each tenant judged on
// its own test rows that neither training nor the advisor sees, and how often the advisor's pick is the best.

import { appendFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Approach,
  type Candidate,
  DEFAULT_PREFERENCE,
  FEW_ROWS_TREES_PREFERENCE,
  NOISE_Z,
  recommend,
} from '../src/core/advice.ts';
import type { RawCell } from '../src/core/cells.ts';
import { inferSchema } from '../src/core/schema-inference.ts';
import type { DatasetSchema } from '../src/core/types.ts';
import { encodeFitted, loadTrained } from '../src/ml/codec.ts';
import { transform } from '../src/ml/featurizer.ts';
import { buildFrame, type Frame, type FrameColumn, targetOf } from '../src/ml/frame.ts';
import { type PoolPart, poolFrames } from '../src/ml/pool.ts';
import { argmaxRows, predictModel } from '../src/ml/predict.ts';
import { createRng } from '../src/ml/rng.ts';
import { type TrainedModel, trainModel, validationSplit } from '../src/ml/train.ts';
import { machineParts, numberOption } from './common.ts';
import { COLUMNS, makeRows, makeTenants, type Tenant } from './modes/data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const TARGET = 'churned';
const APPROACHES: Approach[] = ['tenant', 'shared', 'tuned'];
const SIZE_BUCKETS: [string, number, number][] = [
  ['< 200', 0, 200],
  ['200–1k', 200, 1000],
  ['1k–5k', 1000, 5000],
  ['> 5k', 5000, Number.POSITIVE_INFINITY],
];
const SHIFT_BUCKETS: [string, number, number][] = [
  ['weak (< 0.5)', 0, 0.5],
  ['medium (0.5–1)', 0.5, 1],
  ['strong (≥ 1)', 1, Number.POSITIVE_INFINITY],
];
/**
 * Alternative rules, reported beside the advisor's so a reader sees what the noise rule buys. `prefer`
 * undefined is the advisor's own order (`defaultPreference`: it depends on the candidates' algorithms).
 */
const POLICIES: { name: string; prefer?: readonly Approach[]; fixed?: Approach; z?: number }[] = [
  {
    name: `advisor (noise rule z = ${NOISE_Z}, ${DEFAULT_PREFERENCE.join(' > ')}; ${FEW_ROWS_TREES_PREFERENCE.join(' > ')} when tuned is trees that added rounds and tenant-specific linear)`,
  },
  { name: 'noise rule z = 1, same preference', z: 1 },
  { name: 'best validation accuracy, no noise rule', prefer: [] },
  { name: `noise rule z = ${NOISE_Z}, always ${DEFAULT_PREFERENCE.join(' > ')}`, prefer: DEFAULT_PREFERENCE },
  {
    name: `noise rule z = ${NOISE_Z}, always tenant > tuned > shared`,
    prefer: ['tenant', 'tuned', 'shared'],
  },
  { name: 'always tenant', fixed: 'tenant' },
  { name: 'always shared', fixed: 'shared' },
  { name: 'always tuned', fixed: 'tuned' },
];

interface TenantResult {
  tenant: Tenant;
  validRows: number;
  test: Record<Approach, number>;
  valid: Record<Approach, number>;
  validLogLoss: Record<Approach, number>;
  algorithms: Record<Approach, string>;
  picks: string[];
  reasons: string[];
}

const records = (rows: RawCell[][]): Record<string, RawCell>[] =>
  rows.map((r) => Object.fromEntries(COLUMNS.map((c, k) => [c, r[k]])));

function subFrame(frame: Frame, rows: Int32Array): Frame {
  const columns: FrameColumn[] = frame.columns.map((c) =>
    c.kind === 'number'
      ? { ...c, values: Float64Array.from(rows, (i) => c.values[i]) }
      : { ...c, values: Array.from(rows, (i) => c.values[i]) },
  );
  return { nRows: rows.length, columns };
}

function accuracyOn(m: TrainedModel, frame: Frame): number {
  const classes = m.modelJson.classes as string[];
  // The labels numbered as the model numbers its classes, read as training reads them.
  const y = targetOf(frame, TARGET, 'binary', classes).y;
  const P = predictModel(m.model, transform(m.featurizer, frame));
  const pred = argmaxRows(P, frame.nRows, classes.length);
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
const p1 = (x: number): string => (Number.isFinite(x) ? (x * 100).toFixed(1) : 'n/a');
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

const OPTIONS_HELP = 'the options are described at the top of bench/modes.ts';

export async function main(args: string[]): Promise<void> {
  const seed = numberOption(args, '--seed', 2, OPTIONS_HELP);
  const nTenants = numberOption(args, '--tenants', 30, OPTIONS_HELP);
  const testRows = numberOption(args, '--test-rows', 10_000, OPTIONS_HELP);
  const cap = numberOption(args, '--cap', 5000, OPTIONS_HELP);
  const t0 = performance.now();
  const lines: string[] = [];
  const out = (s = ''): void => {
    console.log(s);
    lines.push(s);
  };
  const log = (s: string): void =>
    console.error(`[modes ${((performance.now() - t0) / 1000).toFixed(0)}s] ${s}`);

  // Data: each tenant's rows (train + validation), its schema as an upload would infer it, its test rows.
  const tenants = makeTenants(seed, nTenants);
  const data = tenants.map((t, k) => {
    const rng = createRng(seed * 1000 + k + 1);
    const rows = makeRows(t, t.size, rng, 0);
    const test = makeRows(t, testRows, rng, t.size);
    const schema: DatasetSchema = inferSchema([...COLUMNS], rows);
    const frame = buildFrame(records(rows), schema);
    const testFrame = buildFrame(records(test), schema);
    // The rows each tenant's runs hold out for validation stay out of the pool too, so the shared model's
    // validation score is as honest as the others'.
    const split = validationSplit(frame, TARGET, 'binary', seed);
    return { t, schema, frame, testFrame, trainPart: subFrame(frame, split.trainRows) };
  });
  const flagged = data[0].schema.columns.filter((c) => c.identifying).map((c) => c.name);
  log(
    `generated ${nTenants} tenants, ${data.reduce((s, d) => s + d.t.size, 0)} rows (+${testRows} test rows each)`,
  );

  // Shared: pooled from every tenant's training rows, then stored and loaded back as the tuned base.
  const parts: PoolPart[] = data.map((d) => ({
    tenantId: d.t.id,
    dataset: 'customers',
    version: 1,
    schema: d.schema,
    frame: d.trainPart,
  }));
  const pooled = poolFrames(parts, { target: TARGET, maxRowsPerTenant: cap, seed });
  // Linear by default: a tuned linear model is pulled toward the shared weights with a strength chosen by
  // cross-validation, which adapts to a small tenant more safely than boosting on from shared trees.
  const sharedAlgorithm = args.includes('--shared-algorithm')
    ? (args[args.indexOf('--shared-algorithm') + 1] as 'auto' | 'linear' | 'gbdt')
    : 'linear';
  const sharedRun = trainModel({
    frame: pooled.frame,
    schema: pooled.schema,
    target: TARGET,
    seed,
    onnx: false,
    algorithm: sharedAlgorithm,
  });
  const tunedParams = args.includes('--tuned-params')
    ? (JSON.parse(args[args.indexOf('--tuned-params') + 1]) as Record<string, unknown>)
    : undefined;
  const shared = loadTrained({
    fitted: encodeFitted(sharedRun.model),
    featurizer: JSON.stringify(sharedRun.featurizer),
    model: JSON.stringify(sharedRun.modelJson),
  });
  log(`shared: ${pooled.frame.nRows} pooled rows, ${sharedRun.modelJson.algorithm}`);

  const results: TenantResult[] = [];
  for (const d of data) {
    const common = { frame: d.frame, schema: d.schema, target: TARGET, seed, onnx: false };
    const tenantRun = trainModel({ ...common, dropIdentifying: true });
    const tunedRun = trainModel({ ...common, base: shared, ...(tunedParams ? { params: tunedParams } : {}) });
    if (tunedRun.modelJson.validRows !== tenantRun.modelJson.validRows) {
      throw new Error(`${d.t.id}: tuned and tenant runs held out different rows`);
    }
    const models: Record<Approach, TrainedModel> = { tenant: tenantRun, shared, tuned: tunedRun };
    const validMetrics: Record<Approach, Record<string, number>> = {
      tenant: pick(tenantRun.metrics),
      shared: pick(tunedRun.baseMetrics),
      tuned: pick(tunedRun.metrics),
    };
    const candidates: Candidate[] = APPROACHES.map((mode) => ({
      mode,
      ref: null,
      metrics: validMetrics[mode],
      algorithm: models[mode].modelJson.algorithm,
    }));
    const validRows = tunedRun.modelJson.validRows;
    const picks = POLICIES.map(
      (p) =>
        p.fixed ??
        recommend({ task: 'binary', validRows, candidates, prefer: p.prefer, noiseZ: p.z }).recommendation,
    );
    const advice = recommend({ task: 'binary', validRows, candidates });
    const test = Object.fromEntries(APPROACHES.map((a) => [a, accuracyOn(models[a], d.testFrame)])) as Record<
      Approach,
      number
    >;
    results.push({
      tenant: d.t,
      validRows,
      test,
      valid: Object.fromEntries(APPROACHES.map((a) => [a, validMetrics[a].accuracy])) as Record<
        Approach,
        number
      >,
      validLogLoss: Object.fromEntries(APPROACHES.map((a) => [a, validMetrics[a].logLoss])) as Record<
        Approach,
        number
      >,
      algorithms: Object.fromEntries(APPROACHES.map((a) => [a, models[a].modelJson.algorithm])) as Record<
        Approach,
        string
      >,
      picks,
      reasons: advice.reasons,
    });
    log(
      `${d.t.id} (${d.t.size} rows, shift ${d.t.shift.toFixed(2)}): test ${APPROACHES.map((a) => `${a} ${p1(test[a])}`).join(', ')} → ${picks[0]}`,
    );
  }

  const good = (r: TenantResult, a: Approach): boolean =>
    r.test[a] >= Math.max(...APPROACHES.map((x) => r.test[x])) - 0.01;
  const seconds = (performance.now() - t0) / 1000;

  out(`## modes — ${new Date().toISOString()}`);
  out();
  out(
    `Command: \`npm run bench -- modes ${args.join(' ')}\`. Machine: ${machineParts().join('; ')}. Load average at end: ${load()}.`,
  );
  out(
    `${nTenants} tenants, ${data.reduce((s, d) => s + d.t.size, 0)} rows in all (${tenants.at(-1)?.size}–${tenants[0].size} per tenant, ` +
      `power law), seed ${seed}; each tenant also has ${testRows} test rows from its own distribution that no ` +
      `training and no advice sees. Binary label: a common function (non-linear in x1·x3) plus the tenant's own ` +
      `shift (weights, intercept, region effects) scaled by a strength in [0, 1.5]. Validation: 20% of each ` +
      `tenant's rows (seeded, the same rows for its three candidates). Shared: pooled from every tenant's ` +
      `training rows (cap ${cap} per tenant) → ${pooled.frame.nRows} rows, ${sharedRun.modelJson.algorithm}; ` +
      `de-identification dropped ${JSON.stringify(pooled.deidentification.droppedColumns)} (flagged by the upload's ` +
      `schema inference: ${JSON.stringify(flagged)}) and replaced ${JSON.stringify(pooled.deidentification.replaced)} ` +
      `inside cells. Tenant-specific: \`auto\` (linear below 500 training rows, trees above); tuned: ` +
      (sharedRun.modelJson.algorithm === 'linear'
        ? 'logistic regression pulled toward the shared weights, λ by 5-fold cross-validation on the training rows'
        : 'boosting continued from the shared trees') +
      '; trees (tenant-specific or tuned) choose their round count on their training rows (5-fold ' +
      'cross-validation below 2000 training rows, a 15% inner hold-out above), never on the validation rows' +
      `. Advisor: NOISE_Z = ${NOISE_Z}, preference ${DEFAULT_PREFERENCE.join(' > ')} (${FEW_ROWS_TREES_PREFERENCE.join(' > ')} ` +
      `when tuned is trees that added rounds to the shared model and tenant-specific linear), on validation metrics ` +
      `(shared: the tuned run's baseMetrics). Whole run: ${seconds.toFixed(0)} s.`,
  );
  out();
  out('Mean test accuracy (%) per tenant size, and the advisor:');
  out();
  out(
    '| size | tenants | tenant-specific | shared | tuned | advisor’s pick | picks (tenant/shared/tuned) | pick best or within 1 pt |',
  );
  out('|---|---|---|---|---|---|---|---|');
  const row = (label: string, rs: TenantResult[]): void => {
    if (rs.length === 0) return;
    const picked = rs.map((r) => r.test[r.picks[0] as Approach]);
    const counts = APPROACHES.map((a) => rs.filter((r) => r.picks[0] === a).length).join('/');
    const hits = rs.filter((r) => good(r, r.picks[0] as Approach)).length;
    out(
      `| ${label} | ${rs.length} | ${APPROACHES.map((a) => p1(mean(rs.map((r) => r.test[a])))).join(' | ')} | ${p1(mean(picked))} | ${counts} | ${hits}/${rs.length} |`,
    );
  };
  for (const [label, lo, hi] of SIZE_BUCKETS)
    row(
      label,
      results.filter((r) => r.tenant.size >= lo && r.tenant.size < hi),
    );
  row('all', results);
  out();
  out('By shift strength:');
  out();
  out(
    '| shift | tenants | tenant-specific | shared | tuned | advisor’s pick | picks (tenant/shared/tuned) | pick best or within 1 pt |',
  );
  out('|---|---|---|---|---|---|---|---|');
  for (const [label, lo, hi] of SHIFT_BUCKETS)
    row(
      label,
      results.filter((r) => r.tenant.shift >= lo && r.tenant.shift < hi),
    );
  out();
  out('Other rules on the same candidates (best on test or within 1 point, of all tenants):');
  out();
  out('| rule | hits |');
  out('|---|---|');
  POLICIES.forEach((p, k) => {
    const hits = results.filter((r) => good(r, r.picks[k] as Approach)).length;
    out(`| ${p.name} | ${hits}/${results.length} (${p1(hits / results.length)}%) |`);
  });
  out();
  const hits = results.filter((r) => good(r, r.picks[0] as Approach)).length;
  const small = results.filter((r) => r.tenant.size < 200);
  const strong = results.filter((r) => r.tenant.shift >= 1);
  const tunedVsTenant = mean(small.map((r) => r.test.tuned - r.test.tenant));
  const tunedWinsSmall = small.filter((r) => r.test.tuned > r.test.tenant).length;
  const tenantVsShared = mean(strong.map((r) => r.test.tenant - r.test.shared));
  const tenantWinsStrong = strong.filter((r) => r.test.tenant > r.test.shared).length;
  out(
    `- Advisor: its pick is the best on test or within 1 point for ${hits}/${results.length} tenants ` +
      `(${p1(hits / results.length)}%; target ≥ 90%: ${hits / results.length >= 0.9 ? 'met' : 'MISSED'}).`,
  );
  out(
    `- Tuned vs tenant-specific for small tenants (< 200 rows, ${small.length}): tuned ${tunedVsTenant >= 0 ? 'beats' : 'does not beat'} ` +
      `tenant-specific, by ${p1(tunedVsTenant)} points of test accuracy on average; tuned is ahead for ${tunedWinsSmall}/${small.length}.`,
  );
  out(
    `- Tenant-specific vs shared for strongly shifted tenants (shift ≥ 1, ${strong.length}): tenant-specific ` +
      `${tenantVsShared >= 0 ? 'beats' : 'does not beat'} shared, by ${p1(tenantVsShared)} points on average; ahead for ${tenantWinsStrong}/${strong.length}.`,
  );
  out();
  out('<details><summary>Per tenant (test accuracy %, validation accuracy % in brackets)</summary>');
  out();
  out(
    '| tenant | rows | shift | valid rows | tenant-specific | shared | tuned | pick | best or within 1 pt |',
  );
  out('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const cell = (a: Approach): string => `${p1(r.test[a])} (${p1(r.valid[a])}) ${r.algorithms[a]}`;
    out(
      `| ${r.tenant.id} | ${r.tenant.size} | ${r.tenant.shift.toFixed(2)} | ${r.validRows} | ${cell('tenant')} | ${cell('shared')} | ${cell('tuned')} | ${r.picks[0]} | ${good(r, r.picks[0] as Approach) ? 'yes' : 'no'} |`,
    );
  }
  out();
  out('</details>');
  out();
  out(
    `Example of the advisor's reasons (${results[results.length - 1].tenant.id}): ${results[results.length - 1].reasons.join(' ')}`,
  );
  out();
  const jsonAt = args.indexOf('--json');
  if (jsonAt >= 0 && args[jsonAt + 1]) writeFileSync(args[jsonAt + 1], JSON.stringify(results, null, 1));
  if (args.includes('--record')) appendFileSync(join(here, 'RESULTS.md'), `\n${lines.join('\n')}\n`);
}

function pick(m: TrainedModel['metrics'] | undefined): Record<string, number> {
  if (!m || m.task === 'regression') return {};
  return { accuracy: m.accuracy, logLoss: m.logLoss };
}
