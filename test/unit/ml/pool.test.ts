import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawCell } from '../../../src/core/cells.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../../../src/core/types.ts';
import { buildFrame, type Frame } from '../../../src/ml/frame.ts';
import { type PoolPart, poolFrames } from '../../../src/ml/pool.ts';

function col(name: string, type: ColumnType, identifying = false): ColumnSchema {
  return {
    name,
    type,
    nullable: true,
    missing: 0,
    distinct: 0,
    distinctApprox: false,
    identifying,
    identifyingReasons: identifying ? ['test'] : [],
  };
}

const NOTES = [
  'call me at 415-555-0132 tomorrow',
  'write to jane.doe@example.com please',
  'paid with 4111 1111 1111 1111 last week',
  'logged in from 192.168.10.77 twice',
  'see https://shop.example.org/orders/991 for details',
  'nothing special',
];

/** `n` rows; `score` is unique per tenant and row, so a pooled cell tells where it came from. */
function rows(tenant: number, n: number, opts: { missingLabelAt?: number } = {}): Record<string, RawCell>[] {
  const out: Record<string, RawCell>[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      age: 20 + (i % 50),
      score: tenant * 100_000 + i,
      city: i === 3 ? 'bob@example.net' : ['paris', 'oslo', 'rome'][i % 3],
      note: NOTES[i % NOTES.length],
      email: `user${i}@tenant${tenant}.example.com`,
      nickname: `nick${i}`,
      extra: i,
      label: i === opts.missingLabelAt ? null : i % 2 === 0 ? 'yes' : 'no',
    });
  }
  return out;
}

function part(tenantId: string, data: Record<string, RawCell>[], columns: ColumnSchema[]): PoolPart {
  const schema: DatasetSchema = { columns };
  return { tenantId, dataset: 'customers', version: 1, schema, frame: buildFrame(data, schema) };
}

const base = (over: Partial<Record<string, ColumnSchema>> = {}): ColumnSchema[] =>
  [
    col('age', 'integer'),
    col('score', 'numeric'),
    col('city', 'categorical'),
    col('note', 'text'),
    col('email', 'categorical'),
    col('nickname', 'categorical'),
    col('label', 'categorical'),
  ].map((c) => over[c.name] ?? c);

/**
 * A: email flagged identifying, one unlabelled row, an extra column only it has.
 * B: age as numeric (compatible), nickname flagged identifying (only here).
 * C: target flagged identifying → out. D: no target → out. E: city numeric → out. F: no score → out.
 */
function parts(nA = 40, nB = 30): PoolPart[] {
  const a = part('A', rows(1, nA, { missingLabelAt: 5 }), [
    ...base({ email: col('email', 'categorical', true) }),
    col('extra', 'integer'),
  ]);
  const b = part(
    'B',
    rows(2, nB),
    base({ age: col('age', 'numeric'), nickname: col('nickname', 'categorical', true) }),
  );
  const c = part('C', rows(3, 20), base({ label: col('label', 'categorical', true) }));
  const d = part(
    'D',
    rows(4, 20),
    base().filter((x) => x.name !== 'label'),
  );
  const e = part(
    'E',
    rows(5, 20).map((r, i) => ({ ...r, city: i })),
    base({ city: col('city', 'integer') }),
  );
  const f = part(
    'F',
    rows(6, 20),
    base().filter((x) => x.name !== 'score'),
  );
  return [a, b, c, d, e, f];
}

const stringCells = (frame: Frame): string[] =>
  frame.columns.flatMap((c) => (c.kind === 'string' ? c.values.filter((v): v is string => v !== null) : []));

describe('poolFrames', () => {
  test('drops identifying columns everywhere, scrubs every string cell, keeps the target', () => {
    const pooled = poolFrames(parts(), { target: 'label', seed: 1 });
    const names = pooled.frame.columns.map((c) => c.name);
    assert.deepEqual(names, ['age', 'score', 'city', 'note', 'label']);
    assert.deepEqual(pooled.deidentification.droppedColumns, ['email', 'nickname']);
    assert.ok(pooled.schema.columns.every((c) => !c.identifying && c.identifyingReasons.length === 0));
    assert.deepEqual(
      pooled.schema.columns.map((c) => [c.name, c.type]),
      [
        ['age', 'numeric'],
        ['score', 'numeric'],
        ['city', 'categorical'],
        ['note', 'text'],
        ['label', 'categorical'],
      ],
    );

    const cells = stringCells(pooled.frame);
    assert.ok(cells.length > 0);
    for (const s of cells) {
      assert.doesNotMatch(s, /@/, `an e-mail address survived: ${s}`);
      assert.doesNotMatch(s, /\d{3}-\d{3}-\d{4}/, `a phone number survived: ${s}`);
      assert.doesNotMatch(s, /\d{4} \d{4} \d{4} \d{4}/, `a card number survived: ${s}`);
      assert.doesNotMatch(s, /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/, `an IP address survived: ${s}`);
      assert.doesNotMatch(s, /https?:\/\//, `a URL survived: ${s}`);
    }
    // The values are replaced by tokens (not deleted), and counted per type.
    const note = pooled.frame.columns.find((c) => c.name === 'note');
    assert.ok(note?.kind === 'string');
    assert.ok(note.values.includes('call me at <PHONE_NUMBER> tomorrow'));
    assert.ok(note.values.includes('paid with <CREDIT_CARD> last week'));
    const city = pooled.frame.columns.find((c) => c.name === 'city');
    assert.ok(city?.kind === 'string' && city.values.includes('<EMAIL_ADDRESS>'));
    const count = (needle: string) => cells.filter((s) => s.includes(needle)).length;
    for (const tok of ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IP_ADDRESS', 'URL']) {
      assert.equal(pooled.deidentification.replaced[tok], count(`<${tok}>`), tok);
      assert.ok(pooled.deidentification.replaced[tok] > 0, tok);
    }
  });

  test('rows per tenant, and a readable reason for every part left out', () => {
    const pooled = poolFrames(parts(), { target: 'label', seed: 1 });
    // A gives its labelled rows only (one of 40 has no label), B all 30.
    assert.deepEqual(pooled.contributions, [
      { tenantId: 'A', dataset: 'customers', version: 1, rows: 39 },
      { tenantId: 'B', dataset: 'customers', version: 1, rows: 30 },
    ]);
    assert.equal(pooled.frame.nRows, 69);
    const score = pooled.frame.columns.find((c) => c.name === 'score');
    assert.ok(score?.kind === 'number');
    const fromA = [...score.values].filter((v) => v < 200_000).length;
    assert.equal(fromA, 39);
    const reasons = Object.fromEntries(pooled.excluded.map((e) => [e.tenantId, e.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ['C', 'D', 'E', 'F']);
    assert.match(reasons.C, /target column 'label' is flagged identifying/);
    assert.match(reasons.D, /target column 'label' is missing/);
    assert.match(reasons.E, /feature column 'city' is integer, the pool's is categorical/);
    assert.match(reasons.F, /feature column 'score' is missing/);
    // No row of an excluded tenant is in the frame.
    assert.ok([...score.values].every((v) => v < 300_000));
  });

  test('the row cap takes a seeded sample without replacement', () => {
    const big = (): PoolPart[] => [part('A', rows(1, 1000), base()), part('B', rows(2, 30), base())];
    const pooled = poolFrames(big(), { target: 'label', seed: 7, maxRowsPerTenant: 100 });
    assert.deepEqual(
      pooled.contributions.map((c) => [c.tenantId, c.rows]),
      [
        ['A', 100],
        ['B', 30],
      ],
    );
    const score = pooled.frame.columns.find((c) => c.name === 'score');
    assert.ok(score?.kind === 'number');
    const taken = [...score.values].filter((v) => v < 200_000).map((v) => v - 100_000);
    assert.equal(new Set(taken).size, 100, 'no row twice');
    assert.ok(taken.every((i) => Number.isInteger(i) && i >= 0 && i < 1000));
    // Uniform: the taken positions spread over the whole part, not its head.
    const mean = taken.reduce((s, x) => s + x, 0) / taken.length;
    assert.ok(mean > 350 && mean < 650, `mean position ${mean}`);
    assert.ok(Math.max(...taken) > 800 && Math.min(...taken) < 200);

    const again = poolFrames(big(), { target: 'label', seed: 7, maxRowsPerTenant: 100 });
    assert.deepEqual(again.frame, pooled.frame, 'same seed, same pool');
    const other = poolFrames(big(), { target: 'label', seed: 8, maxRowsPerTenant: 100 });
    assert.notDeepEqual(other.frame, pooled.frame, 'another seed, another sample');
    // A tenant's sample does not depend on the other tenants in the pool.
    const alone = poolFrames([big()[0]], { target: 'label', seed: 7, maxRowsPerTenant: 100 });
    const aloneScore = alone.frame.columns.find((c) => c.name === 'score');
    assert.ok(aloneScore?.kind === 'number');
    assert.deepEqual(
      [...aloneScore.values],
      taken.map((i) => i + 100_000),
    );
  });

  test('asked-for features: only those, identifying ones dropped, a part lacking one left out', () => {
    const pooled = poolFrames(parts(), { target: 'label', seed: 1, features: ['age', 'email', 'extra'] });
    assert.deepEqual(
      pooled.frame.columns.map((c) => c.name),
      ['age', 'extra', 'label'],
    );
    assert.ok(pooled.deidentification.droppedColumns.includes('email'));
    assert.deepEqual(
      pooled.contributions.map((c) => c.tenantId),
      ['A'],
    );
    const reasons = Object.fromEntries(pooled.excluded.map((e) => [e.tenantId, e.reason]));
    assert.match(reasons.B, /feature column 'extra' is missing/);
    assert.throws(
      () => poolFrames(parts(), { target: 'label', seed: 1, features: ['label'] }),
      /cannot also be a feature/,
    );
  });

  test('features by majority: a column in fewer than half of the eligible parts is not used and excludes no one', () => {
    const pooled = poolFrames(parts(), { target: 'label', seed: 1 });
    assert.ok(!pooled.frame.columns.some((c) => c.name === 'extra'));
    assert.ok(pooled.contributions.some((c) => c.tenantId === 'B'));
  });
});
