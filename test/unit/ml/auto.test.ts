import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ColumnType } from '../../../src/core/types.ts';
import { AUTO_MIN_ROWS_FOR_TREES, chooseAlgorithm } from '../../../src/ml/auto.ts';

const cols = (...types: ColumnType[]) => types.map((type, i) => ({ name: `c${i}`, type }));

describe('chooseAlgorithm (the documented auto rule)', () => {
  test('mostly text → linear', () => {
    const c = chooseAlgorithm({ rows: 100_000, columns: cols('text', 'text', 'numeric') });
    assert.equal(c.algorithm, 'linear');
    assert.match(c.reason, /text/);
    assert.equal(chooseAlgorithm({ rows: 100_000, columns: cols('text', 'numeric') }).algorithm, 'linear');
  });
  test('tiny data → linear', () => {
    const c = chooseAlgorithm({ rows: AUTO_MIN_ROWS_FOR_TREES - 1, columns: cols('numeric', 'categorical') });
    assert.equal(c.algorithm, 'linear');
    assert.match(c.reason, /rows/);
  });
  test('wider than long → linear', () => {
    const c = chooseAlgorithm({ rows: 600, columns: cols(...new Array<ColumnType>(600).fill('numeric')) });
    assert.equal(c.algorithm, 'linear');
    assert.match(c.reason, /wide/);
  });
  test('enough tabular rows → gbdt', () => {
    const c = chooseAlgorithm({
      rows: AUTO_MIN_ROWS_FOR_TREES,
      columns: cols('numeric', 'categorical', 'text'),
    });
    assert.equal(c.algorithm, 'gbdt');
    assert.ok(c.reason.length > 0);
  });
  test('no features → linear', () => {
    assert.equal(chooseAlgorithm({ rows: 10_000, columns: [] }).algorithm, 'linear');
  });
});
