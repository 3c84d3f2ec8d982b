import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../../../src/core/types.ts';
import { buildFrame, getColumn, inferTask, targetOf } from '../../../src/ml/frame.ts';

function col(name: string, type: ColumnType): ColumnSchema {
  return {
    name,
    type,
    nullable: true,
    missing: 0,
    distinct: 0,
    distinctApprox: false,
    identifying: false,
    identifyingReasons: [],
  };
}
const schema = (...cols: [string, ColumnType][]): DatasetSchema => ({
  columns: cols.map(([n, t]) => col(n, t)),
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'validation_failed');
    return e.errors?.[0]?.field;
  }
  assert.fail('expected an error');
}

describe('buildFrame', () => {
  test('reads every type through the shared cell rules, NaN / null for missing', () => {
    const f = buildFrame(
      [
        { x: '1.5', n: 3, b: 'yes', d: '2024-03-05T10:00:00Z', c: 'red', t: 'Hello' },
        { x: '', n: 'abc', b: 0, d: 'NA', c: null, t: 7 },
      ],
      schema(
        ['x', 'numeric'],
        ['n', 'integer'],
        ['b', 'boolean'],
        ['d', 'datetime'],
        ['c', 'categorical'],
        ['t', 'text'],
      ),
    );
    assert.equal(f.nRows, 2);
    const x = getColumn(f, 'x');
    assert.ok(x?.kind === 'number');
    assert.equal(x.values[0], 1.5);
    assert.ok(Number.isNaN(x.values[1]));
    const n = getColumn(f, 'n');
    assert.ok(n?.kind === 'number' && n.values[0] === 3 && Number.isNaN(n.values[1]));
    const b = getColumn(f, 'b');
    assert.deepEqual(Array.from(b?.values as Float64Array), [1, 0]);
    const d = getColumn(f, 'd');
    assert.ok(d?.kind === 'number');
    assert.equal(d.values[0], Date.UTC(2024, 2, 5, 10));
    assert.ok(Number.isNaN(d.values[1]));
    assert.deepEqual(getColumn(f, 'c')?.values, ['red', null]);
    assert.deepEqual(getColumn(f, 't')?.values, ['Hello', '7']);
  });
});

describe('targetOf', () => {
  const f = buildFrame(
    [
      { y: '10', s: 'b', r: 1.5 },
      { y: '2', s: 'a', r: 2.5 },
      { y: '10', s: 'c', r: '' },
      { y: '2', s: 'a', r: 3 },
    ],
    schema(['y', 'integer'], ['s', 'categorical'], ['r', 'numeric']),
  );
  test('classes are sorted (numerically for numbers) and indexed', () => {
    const t = targetOf(f, 'y', 'binary');
    assert.ok(t.kind === 'classification');
    assert.deepEqual(t.classes, ['2', '10']);
    assert.deepEqual(Array.from(t.y), [1, 0, 1, 0]);
    const s = targetOf(f, 's', 'multiclass');
    assert.ok(s.kind === 'classification');
    assert.deepEqual(s.classes, ['a', 'b', 'c']);
    assert.deepEqual(Array.from(s.y), [1, 0, 2, 0]);
  });
  test('regression keeps values, marks missing rows out', () => {
    const t = targetOf(f, 'r', 'regression');
    assert.ok(t.kind === 'regression');
    assert.deepEqual(Array.from(t.rows), [0, 1, 3]);
    assert.equal(t.y[3], 3);
  });
  test('refuses unsuitable targets, naming the field target', () => {
    assert.equal(
      fieldOf(() => targetOf(f, 'nope', 'binary')),
      'target',
    );
    assert.equal(
      fieldOf(() => targetOf(f, 's', 'regression')),
      'target',
    );
    assert.equal(
      fieldOf(() => targetOf(f, 's', 'binary')),
      'target',
    );
    const sparse = buildFrame(
      [{ y: 'a' }, { y: '' }, { y: '' }, { y: 'b' }, { y: null }],
      schema(['y', 'categorical']),
    );
    assert.equal(
      fieldOf(() => targetOf(sparse, 'y', 'binary')),
      'target',
    );
    const single = buildFrame([{ y: 'a' }, { y: 'a' }], schema(['y', 'categorical']));
    assert.equal(
      fieldOf(() => targetOf(single, 'y', 'binary')),
      'target',
    );
  });
  test('known classes (tuned training) keep the base order and refuse new labels', () => {
    const t = targetOf(f, 's', 'multiclass', ['c', 'b', 'a', 'z']);
    assert.ok(t.kind === 'classification');
    assert.deepEqual(Array.from(t.y), [1, 2, 0, 2]);
    assert.equal(
      fieldOf(() => targetOf(f, 's', 'multiclass', ['a', 'b'])),
      'target',
    );
  });
});

describe('inferTask', () => {
  test('numbers with many values or fractions → regression; 2 classes → binary; more → multiclass', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({
      many: i,
      frac: i % 3 === 0 ? 0.5 : 1,
      two: i % 2,
      lab: ['x', 'y', 'z'][i % 3],
      bool: i % 2 === 0,
    }));
    const f = buildFrame(
      rows,
      schema(
        ['many', 'integer'],
        ['frac', 'numeric'],
        ['two', 'integer'],
        ['lab', 'categorical'],
        ['bool', 'boolean'],
      ),
    );
    assert.equal(inferTask(f, 'many'), 'regression');
    assert.equal(inferTask(f, 'frac'), 'regression');
    assert.equal(inferTask(f, 'two'), 'binary');
    assert.equal(inferTask(f, 'lab'), 'multiclass');
    assert.equal(inferTask(f, 'bool'), 'binary');
  });
});
