import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { RawCell } from '../../../src/core/cells.ts';
import { AppError } from '../../../src/core/errors.ts';
import {
  decodeRows,
  encodeRows,
  encodeStream,
  ROWS_FORMAT,
  readAllRows,
} from '../../../src/services/datasets/codec.ts';
import { ingestDataset } from '../../../src/services/datasets/ingest.ts';
import type { DatasetFormat } from '../../../src/services/datasets/parse.ts';
import { decryptStream, encryptStream } from '../../../src/store/artifacts/envelope.ts';

const LIMITS = { maxRows: 10_000, maxColumns: 100 };

async function collect(r: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}

async function* batchesOf(rows: RawCell[][], size = 2): AsyncGenerator<RawCell[][]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

describe('encodeRows / decodeRows', () => {
  test('writes a header line, then one JSON array per row; missing cells become null', async () => {
    const bytes = await collect(
      encodeRows(
        batchesOf([
          ['a', 1, true],
          [null, undefined, 'x\ny'],
        ]),
        ['p', 'q', 'r'],
      ),
    );
    const lines = bytes.toString('utf8').split('\n');
    assert.deepEqual(JSON.parse(lines[0]), { format: ROWS_FORMAT, columns: ['p', 'q', 'r'] });
    assert.equal(lines[1], '["a",1,true]');
    assert.equal(lines[2], '[null,null,"x\\ny"]');
    assert.equal(lines[3], '');
  });

  test('decodes in batches with the columns first', async () => {
    const rows: RawCell[][] = Array.from({ length: 2500 }, (_, i) => [String(i), i, i % 2 === 0]);
    const bytes = await collect(encodeRows(batchesOf(rows, 700), ['s', 'n', 'b']));
    const decoded = await decodeRows(Readable.from([bytes]), { batchRows: 1000 });
    assert.deepEqual(decoded.columns, ['s', 'n', 'b']);
    const sizes: number[] = [];
    const back: RawCell[][] = [];
    for await (const b of decoded.rows) {
      sizes.push(b.length);
      back.push(...b);
    }
    assert.deepEqual(sizes, [1000, 1000, 500]);
    assert.deepEqual(back, rows);
  });

  test('a column list that grows is recorded and read back (padded with null)', async () => {
    const cols = ['a'];
    async function* grow(): AsyncGenerator<RawCell[][]> {
      yield [[1], [2]];
      cols.push('b');
      yield [[3, 'x']];
    }
    const bytes = await collect(encodeRows(grow(), cols));
    assert.match(bytes.toString(), /\n\{"columns":\["a","b"\]\}\n/);
    assert.deepEqual(await readAllRows(Readable.from([bytes])), [
      { a: 1, b: null },
      { a: 2, b: null },
      { a: 3, b: 'x' },
    ]);
    // With the final columns from the schema, every row is full width from the start.
    const decoded = await decodeRows(Readable.from([bytes]), { columns: ['a', 'b'] });
    const all: RawCell[][] = [];
    for await (const b of decoded.rows) all.push(...b);
    assert.deepEqual(all, [
      [1, null],
      [2, null],
      [3, 'x'],
    ]);
  });

  test('gzip: the stream is gzip, and decodeRows reads either form', async () => {
    const rows: RawCell[][] = Array.from({ length: 300 }, (_, i) => [`row ${i}`, i]);
    const gz = await collect(encodeStream(batchesOf(rows, 50), ['t', 'n'], { gzip: true }));
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
    const plain = await collect(encodeStream(batchesOf(rows, 50), ['t', 'n']));
    assert.deepEqual(gunzipSync(gz), plain);
    assert.deepEqual(await readAllRows(Readable.from([gz])), await readAllRows(Readable.from([plain])));
  });

  test('a damaged row is reported by line, without quoting the data', async () => {
    const bytes = Buffer.from(`{"format":"${ROWS_FORMAT}","columns":["a"]}\n["ok"]\n["secret-value\n`);
    const { rows } = await decodeRows(Readable.from([bytes]));
    await assert.rejects(
      (async () => {
        for await (const _ of rows);
      })(),
      (e: Error) => /line 3 is not valid JSON/.test(e.message) && !e.message.includes('secret'),
    );
  });

  test('refuses bytes that are not this format', async () => {
    await assert.rejects(
      decodeRows(Readable.from([Buffer.from('{"format":"other/1","columns":[]}\n')])),
      /format/,
    );
    await assert.rejects(decodeRows(Readable.from([Buffer.from('')])), /empty/);
    await assert.rejects(
      decodeRows(Readable.from([Buffer.from(`{"format":"${ROWS_FORMAT}","columns":["a"]}\n`)]), {
        columns: ['b'],
      }),
      /schema/,
    );
  });
});

describe('round trip: upload → ingest → encrypt → decrypt → rows', () => {
  const expected = [
    { id: '1', name: 'Ada', score: '9.5', ok: 'true', when: '2024-01-31' },
    { id: '2', name: 'Bob, Jr.', score: '', ok: 'false', when: '2024-02-01' },
  ];
  const bodies: Record<DatasetFormat, string> = {
    csv: 'id,name,score,ok,when\n1,Ada,9.5,true,2024-01-31\n2,"Bob, Jr.",,false,2024-02-01\n',
    json: JSON.stringify(expected),
    ndjson: expected.map((r) => JSON.stringify(r)).join('\n'),
  };

  for (const format of ['csv', 'json', 'ndjson'] as const) {
    for (const gzip of [false, true]) {
      test(`${format}${gzip ? ' + gzip' : ''}`, async () => {
        const key = randomBytes(32);
        const { stream, result } = ingestDataset(
          Readable.from([Buffer.from(bodies[format])]),
          format,
          LIMITS,
          { gzip },
        );
        const sealed = new PassThrough();
        const stored = collect(sealed);
        await Promise.all([result, pipeline(stream, encryptStream(key, 't1', 'ds'), sealed)]);
        const outcome = await result;
        assert.equal(outcome.rows, 2);
        assert.deepEqual(outcome.columns, ['id', 'name', 'score', 'ok', 'when']);
        assert.deepEqual(
          outcome.schema.columns.map((c) => c.type),
          ['integer', 'categorical', 'numeric', 'boolean', 'datetime'],
        );
        assert.equal(outcome.schema.columns[2].nullable, true);
        assert.equal(outcome.schema.columns[2].missing, 1);
        const plain = Readable.from([await stored]).pipe(decryptStream(key, 't1', 'ds'));
        const rows = await readAllRows(plain);
        assert.deepEqual(rows, expected);
      });
    }
  }

  test('a bad upload rejects the result with the AppError and errors the stream', async () => {
    const { stream, result } = ingestDataset(Readable.from([Buffer.from('a,b\n1,2\n3\n')]), 'csv', LIMITS);
    await assert.rejects(collect(stream));
    await assert.rejects(result, (e) => e instanceof AppError && e.code === 'dataset_parse_error');
  });

  test('a reader that stops early settles the result as failed', async () => {
    const body = `a\n${Array.from({ length: 5000 }, (_, i) => i).join('\n')}\n`;
    const { stream, result } = ingestDataset(Readable.from([Buffer.from(body)]), 'csv', {
      ...LIMITS,
      batchRows: 100,
    });
    for await (const _ of stream) break;
    await assert.rejects(result, /not read to its end/);
  });
});
