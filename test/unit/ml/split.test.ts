import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kFold, trainValidSplit } from '../../../src/ml/split.ts';

describe('trainValidSplit', () => {
  test('partitions all positions, seeded and reproducible', () => {
    const a = trainValidSplit(100, { validFraction: 0.2, seed: 7 });
    const b = trainValidSplit(100, { validFraction: 0.2, seed: 7 });
    const c = trainValidSplit(100, { validFraction: 0.2, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.valid, c.valid);
    assert.equal(a.valid.length, 20);
    const all = [...a.train, ...a.valid].sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
  test('stratified: each class split in the same proportion, rare classes on both sides', () => {
    const strata = Int32Array.from({ length: 103 }, (_, i) => (i < 90 ? 0 : i < 100 ? 1 : 2));
    const s = trainValidSplit(103, { validFraction: 0.2, seed: 1, strata });
    const count = (idx: Int32Array, k: number) => [...idx].filter((i) => strata[i] === k).length;
    assert.equal(count(s.valid, 0), 18);
    assert.equal(count(s.valid, 1), 2);
    assert.equal(count(s.valid, 2), 1);
    assert.equal(count(s.train, 2), 2);
  });
});

describe('kFold', () => {
  test('every position validates exactly once; folds balanced by class', () => {
    const strata = Int32Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const folds = kFold(50, 5, { seed: 3, strata });
    const seen = new Int32Array(50);
    for (const f of folds) {
      for (const i of f.valid) seen[i]++;
      assert.equal(f.train.length + f.valid.length, 50);
      assert.equal([...f.valid].filter((i) => strata[i] === 1).length, 2);
    }
    assert.ok(seen.every((v) => v === 1));
  });
});
