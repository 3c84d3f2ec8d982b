// Profiles, window aggregates and their assessment on generated, seeded data: calibration without drift,
// detection of a mean shift and of a category shift, quality counters, feedback, and exact merging.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CategoricalAggregate,
  emptyAggregate,
  foldFeedback,
  foldPrediction,
  mergeAggregates,
  mergeReservoirs,
  type NumericAggregate,
  RESERVOIR_SIZE,
  type WindowAggregate,
} from '../../../../src/ml/drift/aggregate.ts';
import { assessWindow } from '../../../../src/ml/drift/assess.ts';
import { buildProfile, type ReferenceProfile } from '../../../../src/ml/drift/profile.ts';
import { frameFromColumns } from '../../../../src/ml/frame.ts';
import { createRng, type Rng } from '../../../../src/ml/rng.ts';

const FEATURES = [
  { name: 'x1', type: 'numeric' as const },
  { name: 'x2', type: 'numeric' as const },
  { name: 'c', type: 'categorical' as const },
  { name: 'b', type: 'boolean' as const },
];
const NAMES = FEATURES.map((f) => f.name);

interface Shift {
  x1Mean?: number;
  cProbs?: number[];
}

type Row = { x1: number; x2: number; c: string; b: boolean };

function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

function draw(rng: Rng, shift: Shift = {}): Row {
  const probs = shift.cProbs ?? [0.5, 0.3, 0.2];
  const u = rng.next();
  const c = u < probs[0] ? 'a' : u < probs[0] + probs[1] ? 'b' : 'c';
  return { x1: (shift.x1Mean ?? 0) + normal(rng), x2: 5 + 2 * normal(rng), c, b: rng.next() < 0.3 };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function output(r: Row): { label: string; probabilities: Record<string, number> } {
  const p = sigmoid(r.x1 + 0.2 * (r.x2 - 5));
  return { label: p >= 0.5 ? 'yes' : 'no', probabilities: { no: 1 - p, yes: p } };
}

function reference(n: number, seed: number): ReferenceProfile {
  const rng = createRng(seed);
  const rows = Array.from({ length: n }, () => draw(rng));
  const frame = frameFromColumns([
    { kind: 'number', name: 'x1', type: 'numeric', values: Float64Array.from(rows, (r) => r.x1) },
    { kind: 'number', name: 'x2', type: 'numeric', values: Float64Array.from(rows, (r) => r.x2) },
    { kind: 'string', name: 'c', type: 'categorical', values: rows.map((r) => r.c) },
    { kind: 'number', name: 'b', type: 'boolean', values: Float64Array.from(rows, (r) => (r.b ? 1 : 0)) },
  ]);
  const predictions = new Float64Array(n * 2);
  rows.forEach((r, i) => {
    const p = output(r).probabilities.yes;
    predictions[2 * i] = 1 - p;
    predictions[2 * i + 1] = p;
  });
  return buildProfile({
    frame,
    features: FEATURES,
    rows: Int32Array.from(rows.keys()),
    task: 'binary',
    classes: ['no', 'yes'],
    predictions,
    predRows: n,
    seed,
  });
}

function window(profile: ReferenceProfile, rng: Rng, n: number, shift: Shift = {}): WindowAggregate {
  const agg = emptyAggregate(profile);
  const random = () => rng.next();
  for (let i = 0; i < n; i++) {
    const r = draw(rng, shift);
    foldPrediction(agg, profile, r, output(r), random);
  }
  return agg;
}

const drifted = (agg: WindowAggregate, profile: ReferenceProfile) =>
  assessWindow(profile, agg)
    .features.filter((f) => f.drifted)
    .map((f) => f.name);

for (const refRows of [500, 5000]) {
  const small = refRows <= 1000;
  describe(`reference of ${refRows} rows (${small ? 'KS / chi-squared' : 'Wasserstein / Jensen–Shannon'})`, () => {
    const profile = reference(refRows, 11);

    test('the profile picks the method by reference size', () => {
      const agg = window(profile, createRng(1), 500);
      const methods = assessWindow(profile, agg).features.map((f) => f.method);
      assert.deepEqual(
        methods,
        small
          ? ['ks', 'ks', 'chi2', 'chi2']
          : ['wasserstein', 'wasserstein', 'jensen_shannon', 'jensen_shannon'],
      );
    });

    test('no drift: windows of 500 rows drawn from the reference distribution', () => {
      const rng = createRng(100 + refRows);
      const clean: number[] = [];
      const falseAlarms = new Map<string, number>(NAMES.map((n) => [n, 0]));
      let datasetDrift = 0;
      for (let w = 0; w < 20; w++) {
        const agg = window(profile, rng, 500);
        const report = assessWindow(profile, agg);
        const names = report.features.filter((f) => f.drifted).map((f) => f.name);
        if (names.length === 0) clean.push(w);
        for (const n of names) falseAlarms.set(n, (falseAlarms.get(n) ?? 0) + 1);
        if (report.datasetDrift) datasetDrift++;
        assert.ok(report.status === 'ok' || report.status === 'drift');
        // PSI on clean data ≈ (1/n + 1/m)·χ²₉: mean 0.036 at 500 against 500; 0.2 is far beyond its tail.
        for (const f of report.features)
          assert.ok(Number.isFinite(f.psi) && f.psi < 0.2, `${f.name} psi ${f.psi}`);
      }
      assert.ok(datasetDrift <= 1, `dataset drift in ${datasetDrift} of 20 windows`);
      // Each feature is judged at a 5% false-alarm level (tests by construction; Wasserstein and
      // Jensen–Shannon at 0.1 come out near it for 500-row windows), so four features flag something in
      // ~19% of clean windows and "none in 19 of 20" would be luck. What must hold is each feature's
      // level: ≥ 5 of 20 has probability 0.003 under Binomial(20, 0.05); the 200-window test checks the rate.
      for (const [n, k] of falseAlarms) assert.ok(k <= 4, `${n} drifted in ${k} of 20 clean windows`);
      assert.ok(clean.length >= 14, `only ${clean.length} of 20 clean windows had no drifting feature`);
    });
    test('no drift: each feature flags at about a 5% rate over 200 windows', () => {
      const rng = createRng(7);
      const counts = new Map<string, number>(NAMES.map((n) => [n, 0]));
      for (let w = 0; w < 200; w++) {
        for (const n of drifted(window(profile, rng, 500), profile)) counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      // Expected 10 of 200 at the 5% level; more than 20 has probability 0.002.
      for (const [n, k] of counts) assert.ok(k <= 20, `${n} drifted in ${k} of 200 clean windows`);
    });

    test('a mean shift of one standard deviation in x1 is detected in x1 only', () => {
      const rng = createRng(200 + refRows);
      const others = new Map<string, number>();
      for (let w = 0; w < 10; w++) {
        const report = assessWindow(profile, window(profile, rng, 500, { x1Mean: 1 }));
        const x1 = report.features.find((f) => f.name === 'x1');
        assert.ok(x1?.drifted, `window ${w}: x1 not flagged (${x1?.method} ${x1?.statistic})`);
        assert.ok((x1?.psi ?? 0) > 0.25, `x1 psi ${x1?.psi}`);
        for (const f of report.features)
          if (f.name !== 'x1' && f.drifted) others.set(f.name, (others.get(f.name) ?? 0) + 1);
        // The model's output moves with x1: its positive-class probability drifts too.
        assert.ok(report.prediction?.drifted, 'prediction drift');
        assert.equal(report.prediction?.name, 'probability');
      }
      // Each other feature may flag by chance at ~5%: ≥ 4 of 10 has probability 0.001.
      for (const [n, k] of others) assert.ok(k <= 3, `${n} flagged in ${k} of 10 windows`);
    });

    test('a category shift is detected in that feature', () => {
      const rng = createRng(300 + refRows);
      for (let w = 0; w < 5; w++) {
        const report = assessWindow(profile, window(profile, rng, 500, { cProbs: [0.2, 0.3, 0.5] }));
        const c = report.features.find((f) => f.name === 'c');
        assert.ok(c?.drifted, `window ${w}: c not flagged (${c?.method} ${c?.statistic})`);
        assert.equal(report.features.find((f) => f.name === 'x1')?.drifted, false);
      }
    });

    test('dataset drift when half the features drift', () => {
      const rng = createRng(400 + refRows);
      const report = assessWindow(
        profile,
        window(profile, rng, 500, { x1Mean: 1.5, cProbs: [0.1, 0.2, 0.7] }),
      );
      assert.equal(report.datasetDrift, true);
      assert.equal(report.status, 'drift');
      assert.ok(report.driftedShare >= 0.5);
    });
  });
}

describe('windows', () => {
  const profile = reference(800, 5);

  test('too few rows: insufficient_data, no alarm; no profile: no_reference', () => {
    const agg = window(profile, createRng(3), 49, { x1Mean: 3 });
    const r = assessWindow(profile, agg);
    assert.equal(r.status, 'insufficient_data');
    assert.equal(r.datasetDrift, false);
    assert.deepEqual(r.features, []);
    assert.equal(r.rows, 49);
    assert.equal(assessWindow(profile, agg, { minRows: 10 }).features[0].drifted, true);
    assert.equal(assessWindow(null, agg).status, 'no_reference');
  });

  test('out-of-range, unseen and missing values are counted', () => {
    const agg = emptyAggregate(profile);
    const random = createRng(1).next;
    const rows: Record<string, unknown>[] = [
      { x1: 100, x2: 5, c: 'a', b: true },
      { x1: -100, x2: 'NA', c: 'zzz', b: 'no' },
      { x1: '0.5', c: 'yyy', b: 'maybe' },
      { x1: null, x2: 4, c: null, b: false },
      { x2: 6, c: '', b: 1 },
    ];
    for (const r of rows)
      foldPrediction(agg, profile, r, { label: 'no', probabilities: { no: 0.7, yes: 0.3 } }, random);
    const [x1, x2, c, b] = agg.features as [
      NumericAggregate,
      NumericAggregate,
      CategoricalAggregate,
      CategoricalAggregate,
    ];
    assert.deepEqual([x1.n, x1.missing, x1.counts[0], x1.counts[x1.counts.length - 1]], [3, 2, 1, 1]);
    assert.deepEqual([x2.n, x2.missing], [3, 2]);
    assert.deepEqual([c.n, c.missing, c.unseen], [3, 2, 2]);
    // 'maybe' is not a boolean: missing, as the featurizer reads it.
    assert.deepEqual([b.n, b.missing, b.unseen], [4, 1, 0]);
    const r = assessWindow(profile, agg, { minRows: 1 });
    const f = (n: string) => r.features.find((x) => x.name === n);
    assert.equal(f('x1')?.outOfRange, 2);
    assert.equal(f('x1')?.missingRate, 2 / 5);
    assert.equal(f('c')?.unseen, 2);
    assert.equal(f('c')?.missingRate, 2 / 5);
  });

  test('feedback on a boolean target: the label as the data spells it (yes/no, 1/0) meets the predicted true/false', () => {
    const agg = emptyAggregate(profile);
    for (const [predicted, label] of [
      ['true', 'yes'],
      ['false', 'no'],
      ['true', 1],
      ['false', 'false'],
      ['true', 'no'],
    ] as const)
      assert.equal(foldFeedback(agg, profile, { label: predicted }, label), true);
    assert.deepEqual(assessWindow(profile, agg).performance, { metric: 'accuracy', value: 0.8, n: 5 });
  });

  test('feedback: accuracy compares labels as strings; RMSE for regression', () => {
    const agg = emptyAggregate(profile);
    assert.equal(foldFeedback(agg, profile, { label: 'yes' }, 'yes'), true);
    assert.equal(foldFeedback(agg, profile, { label: 'no' }, 'yes'), true);
    assert.equal(foldFeedback(agg, profile, { label: 'yes' }, 'yes'), true);
    assert.equal(foldFeedback(agg, profile, { label: '1' }, 1), true);
    assert.equal(foldFeedback(agg, profile, {}, 'yes'), false);
    assert.deepEqual(assessWindow(profile, agg).performance, { metric: 'accuracy', value: 0.75, n: 4 });

    const reg: ReferenceProfile = {
      ...profile,
      task: 'regression',
      classes: undefined,
      prediction: null,
      probability: null,
    };
    const ra = emptyAggregate(reg);
    foldFeedback(ra, reg, { value: 3 }, 1); // error 2
    foldFeedback(ra, reg, { value: 1 }, '2'); // error 1, label as text
    assert.equal(foldFeedback(ra, reg, { value: 1 }, 'n/a'), false);
    assert.equal(foldFeedback(ra, reg, { value: 1 }, ''), false);
    const perf = assessWindow(reg, ra).performance;
    assert.equal(perf?.metric, 'rmse');
    assert.ok(Math.abs((perf?.value ?? 0) - Math.sqrt(5 / 2)) < 1e-12);
    assert.equal(perf?.n, 2);
  });

  test('merge equals folding everything into one (counts exact, reservoirs fair), JSON-safe', () => {
    const rng = createRng(21);
    const data = Array.from({ length: 2500 }, () => draw(rng, { x1Mean: 0.3 }));
    const fold = (rows: Row[], seed: number) => {
      const agg = emptyAggregate(profile);
      const r = createRng(seed);
      for (const row of rows) {
        foldPrediction(agg, profile, row, output(row), r.next);
        foldFeedback(agg, profile, output(row), row.b ? 'yes' : 'no');
      }
      return agg;
    };
    const whole = fold(data, 1);
    const parts = [fold(data.slice(0, 400), 2), fold(data.slice(400, 1700), 3), fold(data.slice(1700), 4)];
    const merged = JSON.parse(JSON.stringify(parts.reduce((a, b) => mergeAggregates(a, b))));
    const strip = (a: WindowAggregate) =>
      JSON.parse(JSON.stringify(a, (k, v) => (k === 'reservoir' ? (v as number[]).length : v)));
    assert.deepEqual(strip(merged), strip(whole));
    const all = new Set(data.map((d) => d.x1));
    for (const v of (merged.features[0] as NumericAggregate).reservoir) assert.ok(all.has(v));
    assert.equal((merged.features[0] as NumericAggregate).reservoir.length, RESERVOIR_SIZE);
    // Same verdicts from either (the reservoirs differ, the shift is clear).
    const a = assessWindow(profile, merged);
    const b = assessWindow(profile, whole);
    assert.deepEqual(
      a.features.map((f) => f.drifted),
      b.features.map((f) => f.drifted),
    );
    assert.equal(a.features[2].statistic, b.features[2].statistic); // chi-squared: counts only, exact
    assert.deepEqual(JSON.parse(JSON.stringify(whole)), whole);
  });

  test('a merged reservoir draws from each side in proportion to what it saw', () => {
    const ra = new Array(RESERVOIR_SIZE).fill(0);
    const rb = new Array(RESERVOIR_SIZE).fill(1);
    const rng = createRng(9);
    let fromB = 0;
    for (let t = 0; t < 50; t++)
      fromB += mergeReservoirs(ra, 3000, rb, 1000, rng.next).reduce((s, v) => s + v, 0);
    const share = fromB / (50 * RESERVOIR_SIZE);
    assert.ok(Math.abs(share - 0.25) < 0.01, `share from b ${share}`);
    // Below capacity, nothing is dropped.
    assert.deepEqual(mergeReservoirs([1, 2], 2, [3], 1, rng.next), [1, 2, 3]);
  });
});

describe('profile', () => {
  test('numeric, categorical, boolean, text and datetime features; sample bounded and sorted', () => {
    const n = 3000;
    const rng = createRng(2);
    const x = Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? Number.NaN : normal(rng)));
    const frame = frameFromColumns([
      { kind: 'number', name: 'x', type: 'numeric', values: x },
      {
        kind: 'string',
        name: 't',
        type: 'text',
        values: Array.from({ length: n }, (_, i) => 'w'.repeat(i % 7)),
      },
      {
        kind: 'number',
        name: 'd',
        type: 'datetime',
        values: Float64Array.from({ length: n }, (_, i) => 1.7e12 + i * 1000),
      },
      {
        kind: 'number',
        name: 'k',
        type: 'integer',
        values: Float64Array.from({ length: n }, (_, i) => i % 3),
      },
    ]);
    const p = buildProfile({
      frame,
      features: [
        { name: 'x', type: 'numeric' },
        { name: 't', type: 'text' },
        { name: 'd', type: 'datetime' },
        { name: 'k', type: 'integer' },
      ],
      rows: Int32Array.from({ length: n }, (_, i) => i),
      task: 'regression',
      predictions: Float64Array.from({ length: n }, (_, i) => i),
      predRows: n,
      seed: 1,
    });
    const [px, pt, pd, pk] = p.features;
    assert.equal(p.format, 'tenantml.profile/1');
    assert.equal(px.kind, 'numeric');
    if (px.kind !== 'numeric' || pt.kind !== 'numeric' || pd.kind !== 'numeric' || pk.kind !== 'numeric')
      return;
    assert.equal(px.n, n - 60);
    assert.ok(Math.abs(px.missingRate - 60 / n) < 1e-12);
    assert.equal(px.sample.length, 1000);
    for (let i = 1; i < px.sample.length; i++) assert.ok(px.sample[i - 1] <= px.sample[i]);
    assert.equal(px.edges.length, 11);
    assert.equal(
      px.counts.reduce((s, c) => s + c, 0),
      px.n,
    );
    assert.deepEqual([pt.min, pt.max], [0, 6]);
    assert.deepEqual([pd.min, pd.max], [1.7e12, 1.7e12 + (n - 1) * 1000]);
    // Three distinct values: one bin each.
    assert.deepEqual(pk.edges, [0, 0.5, 1.5, 2]);
    assert.deepEqual(pk.counts, [1000, 1000, 1000]);
    assert.equal(p.prediction?.kind, 'numeric');
    assert.equal(p.probability, null);
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
    // Text is folded as its length, datetimes as ISO strings.
    const agg = emptyAggregate(p);
    foldPrediction(
      agg,
      p,
      { x: 0, t: 'wwwwwwwwww', d: '2023-11-14T22:13:20Z', k: 1 },
      { value: 3 },
      rng.next,
    );
    const [ax, at, ad] = agg.features as NumericAggregate[];
    assert.equal(ax.n, 1);
    assert.equal(at.counts[at.counts.length - 1], 1); // length 10 > max 6
    assert.equal(ad.reservoir[0], Date.parse('2023-11-14T22:13:20Z'));
  });
});

describe('edge cases', () => {
  test('a feature without reference values: everything out of range, no verdict, no crash', () => {
    const n = 60;
    const frame = frameFromColumns([
      { kind: 'number', name: 'e', type: 'numeric', values: new Float64Array(n).fill(Number.NaN) },
      { kind: 'string', name: 's', type: 'categorical', values: new Array(n).fill(null) },
    ]);
    const p = buildProfile({
      frame,
      features: [
        { name: 'e', type: 'numeric' },
        { name: 's', type: 'categorical' },
      ],
      rows: Int32Array.from({ length: n }, (_, i) => i),
      task: 'regression',
      predictions: new Float64Array(0),
      predRows: 0,
      seed: 1,
    });
    assert.equal(p.prediction, null);
    const agg = emptyAggregate(p);
    for (let i = 0; i < n; i++) foldPrediction(agg, p, { e: i, s: 'x' }, { value: 1 }, Math.random);
    for (const big of [false, true]) {
      const r = assessWindow(p, agg, { smallReference: big ? 0 : 1000 });
      assert.deepEqual(
        r.features.map((f) => [f.drifted, f.outOfRange, f.unseen]),
        [
          [false, n, 0],
          [false, 0, n],
        ],
      );
      assert.equal(r.prediction, null);
    }
  });
});
