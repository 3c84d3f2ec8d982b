import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawCell } from '../../../src/core/cells.ts';
import { transform } from '../../../src/ml/featurizer.ts';
import { buildFrame, targetOf } from '../../../src/ml/frame.ts';
import { evaluate } from '../../../src/ml/metrics.ts';
import { predictModel } from '../../../src/ml/predict.ts';
import { trainValidSplit } from '../../../src/ml/split.ts';
import { type TrainedModel, trainModel, validationSplit } from '../../../src/ml/train.ts';
import { col, rowsOf, schemaOf } from './tuned-data.ts';

const schema = schemaOf('binary');
const base = (algorithm: 'linear' | 'gbdt'): TrainedModel =>
  trainModel({
    rows: rowsOf('binary', 800, 1),
    schema,
    target: 'label',
    algorithm,
    seed: 2,
    onnx: false,
    params: algorithm === 'gbdt' ? { nRounds: 20 } : {},
  });

describe('tuned training and the held-out rows', () => {
  const tenantRows = rowsOf('binary', 300, 7, 1.5);
  const frame = buildFrame(tenantRows, schema);
  const expected = validationSplit(frame, 'label', 'binary', 9).validRows;

  test('tenant-specific and tuned runs with the same seed hold out the same rows, whatever the algorithm', () => {
    const runs = [
      trainModel({ frame, schema, target: 'label', algorithm: 'linear', seed: 9, onnx: false }),
      trainModel({
        frame,
        schema,
        target: 'label',
        algorithm: 'gbdt',
        seed: 9,
        onnx: false,
        params: { nRounds: 5 },
      }),
      trainModel({ frame, schema, target: 'label', seed: 9, onnx: false, base: base('linear') }),
      trainModel({ frame, schema, target: 'label', seed: 9, onnx: false, base: base('gbdt') }),
    ];
    assert.equal(expected.length, 60);
    for (const r of runs) assert.deepEqual(r.validIndex, expected);
  });

  test('the same rows even when the base numbers the classes in another order', () => {
    // The base learnt an integer target (classes 2 < 10); the tenant's column is text, where '10' < '2'.
    const numeric = { columns: [...schema.columns.slice(0, 3), col('label', 'integer')] };
    const text = { columns: [...schema.columns.slice(0, 3), col('label', 'categorical')] };
    const relabel = (rows: Record<string, RawCell>[], asText: boolean) =>
      rows.map((r) => ({ ...r, label: r.label === 'yes' ? (asText ? '10' : 10) : asText ? '2' : 2 }));
    const b = trainModel({
      rows: relabel(rowsOf('binary', 400, 3), false),
      schema: numeric,
      target: 'label',
      seed: 1,
      onnx: false,
    });
    assert.deepEqual(b.modelJson.classes, ['2', '10']);
    const f = buildFrame(relabel(tenantRows, true), text);
    const own = trainModel({
      frame: f,
      schema: text,
      target: 'label',
      algorithm: 'linear',
      seed: 9,
      onnx: false,
    });
    assert.deepEqual(own.modelJson.classes, ['10', '2']);
    const tuned = trainModel({ frame: f, schema: text, target: 'label', seed: 9, onnx: false, base: b });
    assert.deepEqual(tuned.validIndex, own.validIndex);
    // The test means something: stratifying by the base's numbering would hold out other rows.
    const t = targetOf(f, 'label', 'binary', ['2', '10']);
    const strata = Int32Array.from(t.rows, (i) => t.y[i]);
    const naive = trainValidSplit(t.rows.length, { validFraction: 0.2, seed: 9, strata });
    assert.notDeepEqual(
      Int32Array.from(naive.valid, (i) => t.rows[i]),
      own.validIndex,
    );
  });

  for (const algorithm of ['linear', 'gbdt'] as const) {
    test(`${algorithm}: baseMetrics is the base model scored on exactly the validation rows`, () => {
      const b = base(algorithm);
      const tuned = trainModel({ frame, schema, target: 'label', seed: 9, onnx: false, base: b });
      const valid = tuned.validIndex as Int32Array;
      const y = targetOf(frame, 'label', 'binary', b.modelJson.classes).y;
      const want = evaluate(
        'binary',
        Int32Array.from(valid, (i) => y[i]),
        predictModel(b.model, transform(b.featurizer, frame, valid)),
        2,
      );
      assert.deepEqual(tuned.baseMetrics, want);
      assert.deepEqual(Object.keys(tuned.baseMetrics ?? {}), Object.keys(tuned.metrics));
      // The shifted tenant is served worse by the base than by its tuned model.
      assert.ok(tuned.metrics.task === 'binary' && want.task === 'binary');
      assert.ok(tuned.metrics.logLoss < want.logLoss, `${tuned.metrics.logLoss} vs ${want.logLoss}`);
    });
  }

  test('a tenant-specific run has no baseMetrics', () => {
    const t = trainModel({ frame, schema, target: 'label', algorithm: 'linear', seed: 9, onnx: false });
    assert.equal(t.baseMetrics, undefined);
  });

  test('tuned linear picks λ without looking at the validation rows', () => {
    const b = base('linear');
    const first = trainModel({ frame, schema, target: 'label', seed: 9, onnx: false, base: b });
    // Scramble the validation rows' features: the fitted model (λ included) must not move.
    const held = new Set(first.validIndex);
    const scrambled = tenantRows.map((r, i) => (held.has(i) ? { ...r, a: -Number(r.a) * 3, b: 5 } : r));
    const second = trainModel({ rows: scrambled, schema, target: 'label', seed: 9, onnx: false, base: b });
    assert.deepEqual(second.validIndex, first.validIndex);
    assert.equal(second.modelJson.tuned?.priorLambda, first.modelJson.tuned?.priorLambda);
    assert.deepEqual(second.model, first.model);
    assert.notDeepEqual(second.metrics, first.metrics);
  });

  test('trees: the validation rows play no part in training, tenant-specific or tuned', () => {
    // Regression is split without strata, so the validation rows' labels can change and the split not.
    const reg = rowsOf('regression', 400, 11);
    const regSchema = schemaOf('regression');
    const gbdt = { algorithm: 'gbdt' as const, seed: 9, onnx: false, params: { nRounds: 60 } };
    const first = trainModel({ rows: reg, schema: regSchema, target: 'label', ...gbdt });
    const held = new Set(first.validIndex);
    const relabelled = reg.map((r, i) => (held.has(i) ? { ...r, label: -3 * Number(r.label) + 50 } : r));
    const second = trainModel({ rows: relabelled, schema: regSchema, target: 'label', ...gbdt });
    assert.deepEqual(second.validIndex, first.validIndex);
    assert.deepEqual(second.model, first.model);
    assert.deepEqual(second.modelJson.fit, first.modelJson.fit);
    assert.notDeepEqual(second.metrics, first.metrics);

    // Classification strata depend on the labels: scramble the validation rows' features instead.
    const scramble = (rows: Record<string, RawCell>[], keep: TrainedModel) => {
      const h = new Set(keep.validIndex);
      return rows.map((r, i) => (h.has(i) ? { ...r, a: -Number(r.a) * 3, b: 5, region: 'east' } : r));
    };
    const own = trainModel({ frame, schema, target: 'label', ...gbdt });
    const ownScrambled = trainModel({ rows: scramble(tenantRows, own), schema, target: 'label', ...gbdt });
    assert.deepEqual(ownScrambled.model, own.model);
    assert.notDeepEqual(ownScrambled.metrics, own.metrics);

    const b = base('gbdt');
    const tuned = trainModel({ frame, schema, target: 'label', seed: 9, onnx: false, base: b });
    const tunedScrambled = trainModel({
      rows: scramble(tenantRows, tuned),
      schema,
      target: 'label',
      seed: 9,
      onnx: false,
      base: b,
    });
    assert.deepEqual(tunedScrambled.model, tuned.model);
    assert.deepEqual(tunedScrambled.modelJson.fit, tuned.modelJson.fit);
    assert.notDeepEqual(tunedScrambled.metrics, tuned.metrics);
    assert.equal(tuned.modelJson.fit.stopping?.method, 'cv');
    assert.equal(tuned.modelJson.fit.iterations, tuned.modelJson.fit.stopping?.rounds);
    assert.ok(tuned.model.kind === 'gbdt' && b.model.kind === 'gbdt');
    assert.equal(tuned.model.trees.length, b.model.trees.length + tuned.modelJson.fit.iterations);
  });
});
