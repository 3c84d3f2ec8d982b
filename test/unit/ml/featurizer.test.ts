import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../../../src/core/types.ts';
import {
  featureNames,
  fitFeaturizer,
  inputSchema,
  toDense,
  transform,
  transformInstances,
} from '../../../src/ml/featurizer.ts';
import { buildFrame } from '../../../src/ml/frame.ts';
import { fnv1a32 } from '../../../src/ml/text.ts';
import type { DenseMatrix } from '../../../src/ml/types.ts';

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
const schema: DatasetSchema = {
  columns: [
    col('age', 'integer'),
    col('income', 'numeric'),
    col('member', 'boolean'),
    col('at', 'datetime'),
    col('color', 'categorical'),
    col('note', 'text'),
    col('email', 'categorical', true),
    col('y', 'categorical'),
  ],
};
const colors = ['red', 'red', 'red', 'blue', 'blue', 'blue', 'green', null, 'red', 'blue'];
const rows = colors.map((c, i) => ({
  age: i === 3 ? null : 20 + i,
  income: 1000 * (i + 1),
  member: i % 2 === 0 ? 'yes' : 'no',
  at: `2024-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:30:00Z`,
  color: c,
  note: i % 2 === 0 ? 'Great product, works well' : 'broken on arrival',
  email: `u${i}@example.com`,
  y: i % 2 === 0 ? 'a' : 'b',
}));
const frame = buildFrame(rows, schema);
const all = Int32Array.from({ length: rows.length }, (_, i) => i);
const opts = { mode: 'linear' as const, exclude: ['y'], dropIdentifying: true, schema, textBits: 6 };

function dense(m: ReturnType<typeof transform>): DenseMatrix {
  return toDense(m);
}

describe('fitFeaturizer', () => {
  test('drops the target and identifying columns; names every feature', () => {
    const st = fitFeaturizer(frame, all, opts);
    assert.equal(st.version, 1);
    assert.deepEqual(st.dropped, [
      { name: 'email', reason: 'identifying' },
      { name: 'y', reason: 'excluded' },
    ]);
    const names = featureNames(st);
    assert.equal(names.length, st.nFeatures);
    assert.deepEqual(names.slice(0, 4), ['age', 'age__missing', 'income', 'member']);
    assert.ok(names.includes('at.dayOfWeek'));
    // red (4) and blue (4) pass the frequency bar of 3; green (1) is rare → other; null → missing.
    assert.deepEqual(
      names.filter((n) => n.startsWith('color')),
      ['color=blue', 'color=red', 'color=__other__', 'color__missing'],
    );
    assert.equal(names.filter((n) => n.startsWith('note#')).length, 64);
    assert.deepEqual(
      inputSchema(st).map((c) => `${c.name}:${c.type}`),
      ['age:integer', 'income:numeric', 'member:boolean', 'at:datetime', 'color:categorical', 'note:text'],
    );
  });

  test('deterministic: the same input gives the same JSON bytes', () => {
    const a = JSON.stringify(fitFeaturizer(frame, all, opts));
    const b = JSON.stringify(fitFeaturizer(buildFrame(rows, schema), all, opts));
    assert.equal(a, b);
    const again = JSON.parse(a);
    assert.deepEqual(
      Array.from(dense(transform(again, frame)).data),
      Array.from(dense(transform(JSON.parse(b), frame)).data),
    );
  });

  test('linear mode: median imputation, indicator, standardisation, one-hot, L2-normalised tf-idf (CSR)', () => {
    const st = fitFeaturizer(frame, all, opts);
    const m = transform(st, frame);
    assert.equal(m.kind, 'csr');
    const X = dense(m);
    const names = featureNames(st);
    const j = (n: string) => names.indexOf(n);
    const colOf = (n: string) => Array.from({ length: X.rows }, (_, r) => X.data[r * X.cols + j(n)]);
    // Income standardised: mean 0, population sd 1.
    const inc = colOf('income');
    const mean = inc.reduce((s, v) => s + v, 0) / inc.length;
    const sd = Math.sqrt(inc.reduce((s, v) => s + (v - mean) ** 2, 0) / inc.length);
    assert.ok(Math.abs(mean) < 1e-12 && Math.abs(sd - 1) < 1e-12);
    // Age row 3 was missing: imputed to the median (25) and flagged.
    const ageState = st.columns.find((c) => c.name === 'age');
    assert.ok(ageState?.kind === 'numeric');
    assert.equal(ageState.fill, 25);
    assert.equal(colOf('age__missing')[3], 1);
    assert.equal(colOf('age')[3], (25 - ageState.center) / ageState.scale);
    assert.deepEqual(colOf('color=__other__'), [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual(colOf('color__missing'), [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    // Text block of each row has unit L2 norm.
    const t0 = j('note#0');
    for (let r = 0; r < X.rows; r++) {
      let s = 0;
      for (let b = 0; b < 64; b++) s += X.data[r * X.cols + t0 + b] ** 2;
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  });

  test('trees mode: raw numbers with NaN, no scaling, dense, text capped at 2^8', () => {
    const st = fitFeaturizer(frame, all, { ...opts, mode: 'trees', textBits: 16 });
    const m = transform(st, frame);
    assert.equal(m.kind, 'dense');
    const names = featureNames(st);
    assert.equal(names.filter((n) => n.startsWith('note#')).length, 256);
    assert.ok(!names.includes('age__missing'));
    const X = m as DenseMatrix;
    assert.ok(Number.isNaN(X.data[3 * X.cols + names.indexOf('age')]));
    assert.equal(X.data[2 * X.cols + names.indexOf('income')], 3000);
    assert.equal(X.data[2 * X.cols + names.indexOf('at.hour')], 2);
  });

  test('text features hash words and bigrams to their documented buckets', () => {
    const st = fitFeaturizer(frame, all, opts);
    const { X } = transformInstances(st, [{ note: 'broken' }]);
    const D = dense(X);
    const names = featureNames(st);
    const bucket = fnv1a32('broken') & 63;
    assert.ok(D.data[names.indexOf(`note#${bucket}`)] > 0.99);
  });
});

describe('transformInstances', () => {
  const st = fitFeaturizer(frame, all, opts);
  test('matches transform on the same values; missing features are imputed; unknown ones reported', () => {
    const fromFrame = dense(transform(st, frame, Int32Array.of(1)));
    const r = rows[1];
    const { X, unknownFeatures } = transformInstances(st, [
      {
        age: r.age,
        income: r.income,
        member: r.member,
        at: r.at,
        color: r.color,
        note: r.note,
        extra: 1,
        y: 'b',
      },
    ]);
    assert.deepEqual(Array.from(dense(X).data), Array.from(fromFrame.data));
    assert.deepEqual(unknownFeatures, ['extra', 'y']);
    const empty = dense(transformInstances(st, [{}]).X);
    const names = featureNames(st);
    assert.equal(empty.data[names.indexOf('age__missing')], 1);
    const ageState = st.columns.find((c) => c.name === 'age');
    assert.ok(ageState?.kind === 'numeric');
    assert.equal(empty.data[names.indexOf('age')], (25 - ageState.center) / ageState.scale);
    assert.equal(empty.data[names.indexOf('color__missing')], 1);
  });
  test('unseen categories fall in the other bucket', () => {
    const D = dense(transformInstances(st, [{ color: 'purple' }]).X);
    assert.equal(D.data[featureNames(st).indexOf('color=__other__')], 1);
  });
  test('a wrong type names the feature and the instance index', () => {
    const errorsOf = (instances: unknown[]) => {
      try {
        transformInstances(st, instances);
      } catch (e) {
        assert.ok(e instanceof AppError);
        assert.equal(e.code, 'validation_failed');
        return e.errors?.map((x) => `${x.field}@${x.index}`);
      }
      assert.fail('expected a validation error');
    };
    assert.deepEqual(errorsOf([{ age: 30 }, { age: 'thirty' }]), ['age@1']);
    assert.deepEqual(errorsOf([{ member: 'perhaps' }, {}, { at: 'yesterday', color: { a: 1 } }]), [
      'member@0',
      'at@2',
      'color@2',
    ]);
    assert.deepEqual(errorsOf([{ note: ['a'] }]), ['note@0']);
    assert.deepEqual(errorsOf([42]), ['instances@0']);
  });
  test('numbers given as strings and "NA" are read like training cells', () => {
    const a = dense(transformInstances(st, [{ age: '30', income: 'NA' }]).X);
    const b = dense(transformInstances(st, [{ age: 30 }]).X);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
  });
});

describe('transform on a differently typed frame (tuned models meet new schemas)', () => {
  test('numbers are read from strings and strings spelled from numbers', () => {
    const zipRows = Array.from({ length: 9 }, (_, i) => ({
      zip: ['100', '200', '300'][i % 3],
      amount: String(i),
    }));
    const fitted = fitFeaturizer(
      buildFrame(zipRows, { columns: [col('zip', 'categorical'), col('amount', 'numeric')] }),
      Int32Array.from({ length: 9 }, (_, i) => i),
      { mode: 'linear' },
    );
    const a = buildFrame(zipRows, { columns: [col('zip', 'categorical'), col('amount', 'numeric')] });
    const b = buildFrame(zipRows, { columns: [col('zip', 'integer'), col('amount', 'categorical')] });
    assert.deepEqual(
      Array.from(toDense(transform(fitted, b)).data),
      Array.from(toDense(transform(fitted, a)).data),
    );
  });
});

describe('transform on raw instances', () => {
  test('an array of instances goes through the checked instance path', () => {
    const st = fitFeaturizer(frame, all, opts);
    const a = toDense(transform(st, [{ age: 30, color: 'red' }]));
    const b = toDense(transformInstances(st, [{ age: 30, color: 'red' }]).X);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    assert.throws(() => transform(st, [{ age: 'old' }]), AppError);
  });
});
