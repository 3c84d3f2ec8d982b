import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { RawCell } from '../../../src/core/cells.ts';
import { AppError } from '../../../src/core/errors.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../../../src/core/types.ts';
import { toDense, transformInstances } from '../../../src/ml/featurizer.ts';
import { predictModel } from '../../../src/ml/predict.ts';
import { createRng } from '../../../src/ml/rng.ts';
import { MODEL_FORMAT, type TrainProgress, trainModel } from '../../../src/ml/train.ts';

function col(name: string, type: ColumnType, identifying = false): ColumnSchema {
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

const rng = createRng(2024);
const gauss = () => {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
};

/** Tabular rows: two numbers (one with gaps), a category, a boolean, an id; label depends on them. */
function tabular(n: number, kind: 'binary' | 'multiclass' | 'regression'): Record<string, RawCell>[] {
  const rows: Record<string, RawCell>[] = [];
  for (let i = 0; i < n; i++) {
    const a = gauss();
    const b = gauss();
    const cat = ['north', 'south', 'east', 'west'][rng.int(4)];
    const flag = rng.next() < 0.5;
    const s = 2 * a - b + (cat === 'north' ? 1.5 : 0) + (flag ? -1 : 0);
    let label: RawCell;
    if (kind === 'binary') label = s + 0.3 * gauss() > 0 ? 'yes' : 'no';
    else if (kind === 'multiclass') label = s < -1 ? 'low' : s < 1 ? 'mid' : 'high';
    else label = 3 * a - 2 * b + (cat === 'north' ? 4 : 0) + 0.1 * gauss();
    rows.push({
      a: a.toFixed(4),
      b: i % 10 === 0 ? '' : b,
      region: cat,
      flag,
      email: `user${i}@example.com`,
      label,
    });
  }
  return rows;
}
const tabularSchema: DatasetSchema = {
  columns: [
    col('a', 'numeric'),
    col('b', 'numeric'),
    col('region', 'categorical'),
    col('flag', 'boolean'),
    col('email', 'categorical', true),
  ],
};
const withLabel = (t: ColumnType): DatasetSchema => ({
  columns: [...tabularSchema.columns, col('label', t)],
});

describe('trainModel, linear', () => {
  test('binary end to end: metrics, model JSON, ONNX, predictions from raw instances', () => {
    const rows = tabular(600, 'binary');
    const stages: TrainProgress['stage'][] = [];
    const t = trainModel({
      rows,
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'linear',
      seed: 1,
      dropIdentifying: true,
      onProgress: (p) => {
        if (stages.at(-1) !== p.stage) stages.push(p.stage);
      },
    });
    assert.deepEqual(stages, ['prepare', 'featurize', 'train', 'evaluate', 'done']);
    assert.equal(t.modelJson.format, MODEL_FORMAT);
    assert.equal(t.modelJson.task, 'binary');
    assert.deepEqual(t.modelJson.classes, ['no', 'yes']);
    assert.equal(t.modelJson.trainRows + t.modelJson.validRows, 600);
    assert.equal(t.modelJson.validRows, 120);
    assert.ok(!t.modelJson.inputSchema.some((c) => c.name === 'email' || c.name === 'label'));
    assert.equal(t.modelJson.featureNames.length, t.model.nFeatures);
    assert.ok(
      t.metrics.task === 'binary' && t.metrics.accuracy > 0.85 && (t.metrics.auc ?? 0) > 0.93,
      JSON.stringify(t.metrics),
    );
    assert.ok(t.onnx && t.onnx.length > 100);
    assert.deepEqual(JSON.parse(JSON.stringify(t.modelJson)).metrics, t.modelJson.metrics);
    // Prediction from raw JSON instances through the stored featurizer.
    const { X } = transformInstances(JSON.parse(JSON.stringify(t.featurizer)), [
      { a: 3, b: -2, region: 'north', flag: false },
      { a: -3, b: 2, region: 'west', flag: true },
    ]);
    const p = predictModel(t.model, X);
    assert.ok(p[1] > 0.9 && p[3] < 0.1);
  });

  test('multiclass and regression, task inferred', () => {
    const m = trainModel({
      rows: tabular(600, 'multiclass'),
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'linear',
      seed: 2,
    });
    assert.equal(m.modelJson.task, 'multiclass');
    assert.deepEqual(m.modelJson.classes, ['high', 'low', 'mid']);
    assert.ok(m.metrics.task === 'multiclass' && m.metrics.accuracy > 0.8, JSON.stringify(m.metrics));
    const r = trainModel({
      rows: tabular(400, 'regression'),
      schema: withLabel('numeric'),
      target: 'label',
      algorithm: 'linear',
      seed: 3,
    });
    assert.equal(r.modelJson.task, 'regression');
    assert.equal(r.modelJson.classes, undefined);
    assert.ok(r.metrics.task === 'regression' && (r.metrics.r2 ?? 0) > 0.95, JSON.stringify(r.metrics));
  });

  test('text: a class decided by words', () => {
    const good = ['great', 'excellent', 'love', 'perfect', 'happy'];
    const bad = ['broken', 'awful', 'refund', 'terrible', 'late'];
    const filler = ['the', 'item', 'was', 'and', 'delivery', 'box', 'it', 'my'];
    const pick = (a: string[]) => a[rng.int(a.length)];
    const rows = Array.from({ length: 400 }, (_, i) => {
      const pos = i % 2 === 0;
      const words = [
        pick(filler),
        pick(pos ? good : bad),
        pick(filler),
        pick(filler),
        pick(pos ? good : bad),
      ];
      return { review: words.join(' '), stars: rng.int(5), sentiment: pos ? 'pos' : 'neg' };
    });
    const t = trainModel({
      rows,
      schema: { columns: [col('review', 'text'), col('stars', 'integer'), col('sentiment', 'categorical')] },
      target: 'sentiment',
      algorithm: 'auto',
      seed: 4,
    });
    assert.equal(t.modelJson.algorithm, 'linear');
    assert.match(t.modelJson.algorithmReason, /^auto: /);
    assert.ok(t.metrics.task === 'binary' && t.metrics.accuracy > 0.95, JSON.stringify(t.metrics));
    const { X } = transformInstances(t.featurizer, [
      { review: 'absolutely terrible and broken' },
      { review: 'I love it, perfect' },
    ]);
    const p = predictModel(t.model, X);
    assert.deepEqual(t.modelJson.classes, ['neg', 'pos']);
    assert.ok(p[1] < 0.5 && p[3] > 0.5, `${p[1]} ${p[3]}`);
  });

  test('tuned: starts from the base, keeps its featurizer and classes, picks λ on validation', () => {
    const base = trainModel({
      rows: tabular(600, 'binary'),
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'linear',
      seed: 5,
    });
    const tenant = tabular(120, 'binary');
    const tuned = trainModel({
      rows: tenant,
      schema: withLabel('categorical'),
      target: 'label',
      seed: 6,
      base,
    });
    assert.equal(tuned.modelJson.algorithm, 'linear');
    assert.deepEqual(tuned.featurizer, base.featurizer);
    assert.deepEqual(tuned.modelJson.classes, base.modelJson.classes);
    assert.equal(typeof tuned.modelJson.tuned?.priorLambda, 'number');
    assert.ok(tuned.metrics.task === 'binary' && tuned.metrics.accuracy > 0.8);
  });

  test('class weights from params, validated', () => {
    const rows = tabular(300, 'binary');
    const t = trainModel({
      rows,
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'linear',
      seed: 7,
      params: { C: 0.5, classWeight: { yes: 3 } },
    });
    assert.deepEqual(t.modelJson.params.classWeight, { yes: 3 });
    const fieldOf = (params: Record<string, unknown>) => {
      try {
        trainModel({
          rows,
          schema: withLabel('categorical'),
          target: 'label',
          algorithm: 'linear',
          seed: 7,
          params,
        });
      } catch (e) {
        assert.ok(e instanceof AppError);
        return e.errors?.[0]?.field;
      }
      assert.fail('expected an error');
    };
    assert.equal(fieldOf({ C: -1 }), 'params.C');
    assert.equal(fieldOf({ classWeight: { maybe: 2 } }), 'params.classWeight');
    assert.equal(fieldOf({ nRounds: 3 }), 'params.nRounds');
  });

  test('refuses a target that cannot train', () => {
    const rows = tabular(50, 'binary').map((r) => ({ ...r, label: 'same' }));
    assert.throws(
      () => trainModel({ rows, schema: withLabel('categorical'), target: 'label', seed: 1 }),
      (e: unknown) =>
        e instanceof AppError && e.code === 'validation_failed' && e.errors?.[0]?.field === 'target',
    );
  });
});

describe('trainModel, gbdt', () => {
  const params = { nRounds: 40, maxDepth: 4 };
  test('binary, multiclass and regression with trees', () => {
    const b = trainModel({
      rows: tabular(600, 'binary'),
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'gbdt',
      params,
      seed: 8,
    });
    assert.equal(b.modelJson.algorithm, 'gbdt');
    assert.equal(b.featurizer.mode, 'trees');
    assert.ok(b.metrics.task === 'binary' && b.metrics.accuracy > 0.8, JSON.stringify(b.metrics));
    assert.ok(b.onnx && b.onnx.length > 100);
    const { X } = transformInstances(b.featurizer, [{ a: 3, b: -2, region: 'north' }]);
    assert.ok(predictModel(b.model, X)[1] > 0.8);
    const m = trainModel({
      rows: tabular(600, 'multiclass'),
      schema: withLabel('categorical'),
      target: 'label',
      algorithm: 'gbdt',
      params,
      seed: 9,
    });
    assert.ok(m.metrics.task === 'multiclass' && m.metrics.accuracy > 0.7, JSON.stringify(m.metrics));
    const r = trainModel({
      rows: tabular(600, 'regression'),
      schema: withLabel('numeric'),
      target: 'label',
      algorithm: 'gbdt',
      params,
      seed: 10,
    });
    assert.ok(r.metrics.task === 'regression' && (r.metrics.r2 ?? 0) > 0.8, JSON.stringify(r.metrics));
  });
  test('auto picks trees for enough tabular rows; tuned trees keep boosting from the base', () => {
    const base = trainModel({
      rows: tabular(700, 'binary'),
      schema: withLabel('categorical'),
      target: 'label',
      params,
      seed: 11,
    });
    assert.equal(base.modelJson.algorithm, 'gbdt');
    assert.ok(base.model.kind === 'gbdt');
    const tuned = trainModel({
      rows: tabular(200, 'binary'),
      schema: withLabel('categorical'),
      target: 'label',
      params: { nRounds: 10 },
      seed: 12,
      base,
    });
    assert.ok(tuned.model.kind === 'gbdt');
    assert.ok(tuned.model.trees.length > base.model.trees.length);
    assert.equal(tuned.modelJson.tuned?.baseRounds, base.model.trees.length);
  });
});

describe('trainModel artifacts', () => {
  test('the ONNX model answers what predictModel answers on the featurizer output', async () => {
    const rows: Record<string, RawCell>[] = tabular(300, 'multiclass').map((r, i) => ({
      ...r,
      note: i % 3 === 0 ? 'urgent call back' : 'fine thanks',
    }));
    const schema: DatasetSchema = { columns: [...withLabel('categorical').columns, col('note', 'text')] };
    const t = trainModel({
      rows,
      schema,
      target: 'label',
      algorithm: 'linear',
      seed: 13,
      params: { textBits: 8 },
    });
    assert.ok(t.onnx);
    // The label rides along as an unknown key, which prediction ignores.
    const instances = rows.slice(0, 20);
    const { X } = transformInstances(t.featurizer, instances);
    assert.equal(X.kind, 'csr');
    const want = predictModel(t.model, X);
    const D = toDense(X);
    const session = await ort.InferenceSession.create(t.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const res = await session.run({
        input: new ort.Tensor('float32', Float32Array.from(D.data), [D.rows, D.cols]),
      });
      const got = res.probabilities.data as Float32Array;
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++)
        assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `${i}: ${got[i]} vs ${want[i]}`);
    } finally {
      await session.release();
    }
  });
});
