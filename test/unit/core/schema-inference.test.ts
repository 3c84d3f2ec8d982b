import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawCell } from '../../../src/core/cells.ts';
import { inferSchema, SchemaInferrer } from '../../../src/core/schema-inference.ts';
import type { ColumnSchema } from '../../../src/core/types.ts';

/** Infers one column from its cells. */
function col(cells: RawCell[], name = 'x', options = {}): ColumnSchema {
  return inferSchema(
    [name],
    cells.map((c) => [c]),
    options,
  ).columns[0];
}

describe('column types', () => {
  test('integers', () => {
    const c = col(['1', '-5', '42', ' 7 ']);
    assert.equal(c.type, 'integer');
    assert.equal(c.min, -5);
    assert.equal(c.max, 42);
    assert.equal(c.nullable, false);
  });

  test('numbers with a fraction or exponent are numeric', () => {
    const c = col(['1', '2.5', '-3e2', '.5']);
    assert.equal(c.type, 'numeric');
    assert.equal(c.min, -300);
    assert.equal(c.max, 2.5);
  });

  test('JSON numbers work like their text', () => {
    assert.equal(col([1, 2, 3]).type, 'integer');
    assert.equal(col([1, 2.25]).type, 'numeric');
  });

  test('a 0/1-only column is boolean, not integer', () => {
    assert.equal(col(['0', '1', '1', '0']).type, 'boolean');
    assert.equal(col([0, 1, 1]).type, 'boolean');
    assert.equal(col(['0', '1', '2']).type, 'integer');
    const c = col(['0', '1']);
    assert.equal(c.min, undefined, 'booleans carry no min/max');
  });

  test('booleans in words and JSON booleans', () => {
    assert.equal(col(['true', 'False', 'TRUE']).type, 'boolean');
    assert.equal(col(['yes', 'no', 'Y', 'n']).type, 'boolean');
    assert.equal(col([true, false]).type, 'boolean');
    assert.equal(col(['true', 'maybe']).type, 'categorical');
  });

  test('datetimes: dates and date-times in ISO-8601', () => {
    assert.equal(col(['2024-01-31', '2024-02-01T10:00:00Z', '2024-03-01 12:30']).type, 'datetime');
    assert.equal(col(['2024-01-31', 'yesterday']).type, 'categorical');
    const c = col(['2024-01-31', '2024-02-01']);
    assert.equal(c.min, undefined);
  });

  test('missing cells: counted, nullable, not typed', () => {
    const c = col(['1', '', 'NA', null, undefined, '3', 'null']);
    assert.equal(c.type, 'integer');
    assert.equal(c.missing, 5);
    assert.equal(c.nullable, true);
    assert.equal(c.distinct, 2);
  });

  test('an all-missing column is a nullable categorical with no distinct values', () => {
    const c = col(['', null, 'NA']);
    assert.equal(c.type, 'categorical');
    assert.equal(c.nullable, true);
    assert.equal(c.distinct, 0);
  });

  test('short labels are categorical', () => {
    const cells = Array.from({ length: 200 }, (_, i) => ['red', 'green', 'blue', 'light blue'][i % 4]);
    const c = col(cells);
    assert.equal(c.type, 'categorical');
    assert.equal(c.distinct, 4);
  });

  test('long strings are text', () => {
    const c = col([
      'The delivery was late and the box arrived broken, very disappointing',
      'Great service, friendly staff and quick delivery to my door',
    ]);
    assert.equal(c.type, 'text');
  });

  test('many distinct short phrases with spaces are text; many distinct codes are not', () => {
    const words = [
      'quick',
      'slow',
      'great',
      'poor',
      'late',
      'early',
      'box',
      'item',
      'price',
      'refund',
      'app',
    ];
    const phrases = Array.from(
      { length: 300 },
      (_, i) => `${words[i % 11]} ${words[(i * 7) % 11]} ${words[(i * 3) % 11]} ${i}`,
    );
    assert.equal(col(phrases).type, 'text');
    const codes = Array.from({ length: 300 }, (_, i) => `SKU${i % 100}`);
    assert.equal(col(codes).type, 'categorical', 'each code repeats three times');
  });

  test('mixed numbers and words fall back to strings', () => {
    assert.equal(col(['1', '2', 'three']).type, 'categorical');
  });
});

describe('distinct counting', () => {
  test('exact below the cap', () => {
    const c = col(
      Array.from({ length: 500 }, (_, i) => `v${i % 120}`),
      'x',
      { distinctCap: 200 },
    );
    assert.equal(c.distinct, 120);
    assert.equal(c.distinctApprox, false);
  });

  test('past the cap: approximate, within a few percent, never below the cap', () => {
    const n = 20_000;
    const c = col(
      Array.from({ length: n }, (_, i) => `value-${i}`),
      'x',
      { distinctCap: 1000 },
    );
    assert.equal(c.distinctApprox, true);
    assert.ok(c.distinct > 1000);
    assert.ok(Math.abs(c.distinct - n) / n < 0.05, `estimate ${c.distinct} for ${n}`);
    assert.equal(c.type, 'categorical');
  });

  test('types and min/max stay exact past the cap', () => {
    const cells = Array.from({ length: 5000 }, (_, i) => String(i - 100));
    cells.push('12.5');
    const c = col(cells, 'x', { distinctCap: 100 });
    assert.equal(c.type, 'numeric');
    assert.equal(c.min, -100);
    assert.equal(c.max, 4899);
    assert.equal(c.distinctApprox, true);
  });
});

describe('SchemaInferrer', () => {
  test('observes batch by batch like all at once', () => {
    const rows: RawCell[][] = Array.from({ length: 1000 }, (_, i) => [String(i), i % 2 ? 'a' : 'b', '']);
    const once = inferSchema(['n', 'ab', 'empty'], rows);
    const inf = new SchemaInferrer(['n', 'ab', 'empty']);
    for (let i = 0; i < rows.length; i += 128) inf.observe(rows.slice(i, i + 128));
    assert.deepEqual(inf.finish(), once);
    assert.equal(inf.rows, 1000);
  });

  test('a column added later counts earlier rows as missing', () => {
    const inf = new SchemaInferrer(['a']);
    inf.observe([['1'], ['2']]);
    inf.syncColumns(['a', 'b']);
    inf.observe([['3', 'x'], ['4']]);
    const b = inf.finish().columns[1];
    assert.equal(b.name, 'b');
    assert.equal(b.missing, 3);
    assert.equal(b.nullable, true);
  });

  test('rows wider than the known columns are a programming error', () => {
    const inf = new SchemaInferrer(['a']);
    assert.throws(() => inf.observe([['1', '2']]));
  });

  test('flags identifying columns by name and by content, with reasons', () => {
    const rows: RawCell[][] = Array.from({ length: 50 }, (_, i) => [
      `user${i}@example.com`,
      String(i),
      i % 2 ? 'true' : 'false',
      `call +1 555 010 ${String(1000 + i)}`.slice(5),
    ]);
    const s = inferSchema(['contact', 'customer_email', 'mobile', 'notes'], rows).columns;
    assert.deepEqual(s[0].identifyingReasons, ['content:email']);
    assert.deepEqual(s[1].identifyingReasons, ['name:email']);
    assert.equal(s[2].type, 'boolean');
    assert.equal(s[2].identifying, false, 'a boolean named mobile is a flag, not a phone number');
    assert.deepEqual(s[3].identifyingReasons, ['content:phone']);
    assert.ok(s[0].identifying && s[1].identifying && s[3].identifying);
  });

  test('a column is flagged only when enough of its sample matches', () => {
    const few = Array.from({ length: 100 }, (_, i) => (i < 10 ? `u${i}@example.com` : `word${i}`));
    assert.equal(col(few).identifying, false);
    const many = Array.from({ length: 100 }, (_, i) => (i < 40 ? `u${i}@example.com` : `word${i}`));
    assert.equal(col(many).identifying, true);
  });
});
