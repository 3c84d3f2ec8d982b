import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import {
  type DatasetFormat,
  firstInvalidUtf8,
  type ParseLimits,
  parseAll,
  parseDataset,
} from '../../../src/services/datasets/parse.ts';

const LIMITS: ParseLimits = { maxRows: 1000, maxColumns: 50 };

async function fails(
  body: string | Buffer | Buffer[],
  format: DatasetFormat,
  limits = LIMITS,
): Promise<AppError> {
  const chunks = Array.isArray(body) ? body : [typeof body === 'string' ? Buffer.from(body) : body];
  try {
    await parseAll(Readable.from(chunks), format, limits);
  } catch (e) {
    assert.ok(e instanceof AppError, `expected an AppError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the parse to fail');
}

describe('CSV', () => {
  test('parses a header and rows, with quoted fields, CRLF and a trailing newline', async () => {
    const r = await parseAll('id,note,score\r\n1,"a, b",2.5\r\n2,"say ""hi""\nthere",\r\n', 'csv', LIMITS);
    assert.deepEqual(r.columns, ['id', 'note', 'score']);
    assert.deepEqual(r.data, [
      ['1', 'a, b', '2.5'],
      ['2', 'say "hi"\nthere', ''],
    ]);
    assert.equal(r.rows, 2);
  });

  test('hashes and counts the raw body bytes, BOM included', async () => {
    const body = Buffer.from('\uFEFFa,b\n1,2\n', 'utf8');
    const r = await parseAll(Readable.from([body]), 'csv', LIMITS);
    assert.deepEqual(r.columns, ['a', 'b'], 'the BOM is not part of the first column name');
    assert.equal(r.bytes, body.length);
    assert.equal(r.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('a multibyte character split across chunks is fine', async () => {
    const body = Buffer.from('name,city\nx,Zürich\ny,東京\n', 'utf8');
    const at = body.indexOf(Buffer.from('ü')) + 1; // inside the two-byte ü
    const at2 = body.indexOf(Buffer.from('東')) + 2; // inside the three-byte 東
    const r = await parseAll(
      Readable.from([body.subarray(0, at), body.subarray(at, at2), body.subarray(at2)]),
      'csv',
      LIMITS,
    );
    assert.deepEqual(r.data, [
      ['x', 'Zürich'],
      ['y', '東京'],
    ]);
  });

  test('trims column names', async () => {
    const r = await parseAll('a , b\n1,2\n', 'csv', LIMITS);
    assert.deepEqual(r.columns, ['a', 'b']);
  });

  test('unbalanced quotes: dataset_parse_error (400) naming the line', async () => {
    const e = await fails('a,b\n1,2\n3,"open\n4,5\n', 'csv');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.status, 400);
    assert.equal(e.errors?.[0].field, 'body');
    assert.match(e.errors?.[0].message ?? '', /unbalanced quotes|never closed/);
    assert.equal(typeof e.errors?.[0].line, 'number');
  });

  test('a quote inside an unquoted field is refused with its line', async () => {
    const e = await fails('a,b\n1,2\n3,ab"c\n', 'csv');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].line, 3);
  });

  test('ragged rows: every ragged line is reported, up to 10', async () => {
    const e = await fails('a,b\n1,2\n3\n5,6,7\n8,9\n10\n', 'csv');
    assert.equal(e.code, 'dataset_parse_error');
    assert.deepEqual(
      e.errors?.map((x) => x.line),
      [3, 4, 6],
    );
    assert.match(e.errors?.[0].message ?? '', /1 fields, the header has 2/);
    assert.match(e.errors?.[1].message ?? '', /3 fields, the header has 2/);

    const many = ['a,b', ...Array.from({ length: 30 }, (_, i) => (i % 2 ? `${i},${i}` : `${i}`))].join('\n');
    const e2 = await fails(many, 'csv');
    assert.equal(e2.errors?.length, 10, 'stops after the first 10');
    assert.deepEqual(
      e2.errors?.map((x) => x.line),
      [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
    );
  });

  test('error messages never echo cell values', async () => {
    const e = await fails('a,b\nsecret-value,"x"y\n', 'csv');
    assert.doesNotMatch(JSON.stringify({ m: e.message, e: e.errors }), /secret-value/);
  });

  test('empty body and whitespace-only body: empty_body', async () => {
    for (const body of ['', '   \n\n', '\uFEFF']) {
      const e = await fails(body, 'csv');
      assert.equal(e.code, 'empty_body');
      assert.equal(e.status, 400);
    }
  });

  test('header only: dataset_parse_error naming line 2', async () => {
    const e = await fails('a,b,c\n', 'csv');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].line, 2);
    assert.match(e.message, /no rows/);
  });

  test('duplicate and empty column names are named', async () => {
    const e = await fails('id,x,,id,x\n1,2,3,4,5\n', 'csv');
    assert.equal(e.code, 'dataset_parse_error');
    const fields = e.errors?.map((x) => x.field);
    assert.deepEqual(fields, ['columns[2]', 'id', 'x']);
    assert.match(e.errors?.[1].message ?? '', /duplicate column name "id" \(columns 1 and 4\)/);
    assert.match(e.errors?.[0].message ?? '', /column 3 has an empty name/);
  });

  test('too many columns: quota_exceeded (422) with quota, limit and used', async () => {
    const e = await fails('a,b,c,d\n1,2,3,4\n', 'csv', { maxRows: 10, maxColumns: 3 });
    assert.equal(e.code, 'quota_exceeded');
    assert.equal(e.status, 422);
    assert.deepEqual(e.extra, { quota: 'columnsPerDataset', limit: 3, used: 4 });
  });

  test('too many rows: quota_exceeded with rowsPerDataset', async () => {
    const e = await fails('a\n1\n2\n3\n4\n', 'csv', { maxRows: 3, maxColumns: 3 });
    assert.equal(e.code, 'quota_exceeded');
    assert.equal(e.extra?.quota, 'rowsPerDataset');
    assert.equal(e.extra?.limit, 3);
    assert.ok((e.extra?.used as number) > 3);
  });

  test('exactly the row limit is fine', async () => {
    const r = await parseAll('a\n1\n2\n3\n', 'csv', { maxRows: 3, maxColumns: 3 });
    assert.equal(r.rows, 3);
  });

  test('bytes that are not UTF-8: invalid_encoding (400)', async () => {
    const e = await fails(Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0xff, 0xfe, 0x0a]), 'csv');
    assert.equal(e.code, 'invalid_encoding');
    assert.equal(e.status, 400);
    assert.equal(e.errors?.[0].field, 'body');
  });

  test('invalid_encoding names the offending byte, across chunk boundaries too', async () => {
    const good = Buffer.from('a,b\nü,', 'utf8'); // 7 bytes
    const body = Buffer.concat([good, Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('\n')]);
    assert.match((await fails(body, 'csv')).errors?.[0].message ?? '', /byte 7$/);
    // Split inside the ü (bytes 4–5) and again right before the bad sequence.
    const split = [body.subarray(0, 5), body.subarray(5, 7), body.subarray(7)];
    assert.match((await fails(split, 'csv')).errors?.[0].message ?? '', /byte 7$/);
    const split2 = [body.subarray(0, 8), body.subarray(8)];
    assert.match((await fails(split2, 'csv')).errors?.[0].message ?? '', /byte 7$/);
    // A lead byte ending one chunk and a pure-ASCII chunk after it: still caught.
    const cut = [Buffer.from('a\nx\xc3', 'latin1'), Buffer.from('y\n')];
    assert.match((await fails(cut, 'csv')).errors?.[0].message ?? '', /byte 3$/);
    const cutJson = [Buffer.from('[{"a":"\xc3', 'latin1'), Buffer.from('"}]')];
    assert.match((await fails(cutJson, 'json')).errors?.[0].message ?? '', /byte 7$/);
  });

  test('firstInvalidUtf8', () => {
    assert.equal(firstInvalidUtf8(Buffer.from('héllo 東京 🎉')), Buffer.byteLength('héllo 東京 🎉'));
    assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf])), 1, 'overlong');
    assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80])), 2, 'surrogate');
    assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xf0, 0x9f])), 1, 'cut off');
    assert.equal(firstInvalidUtf8(Buffer.from([0x80])), 0, 'stray continuation');
  });

  test('a body cut inside a multibyte character is invalid_encoding', async () => {
    const e = await fails(Buffer.concat([Buffer.from('a\nx'), Buffer.from('ü').subarray(0, 1)]), 'csv');
    assert.equal(e.code, 'invalid_encoding');
    assert.match(e.errors?.[0].message ?? '', /byte 3$/);
  });

  test('a cell longer than maxCellBytes names its column and row', async () => {
    const e = await fails(`a,b\n1,${'x'.repeat(100)}\n`, 'csv', {
      maxRows: 10,
      maxColumns: 5,
      maxCellBytes: 50,
    });
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].field, 'b');
    assert.equal(e.errors?.[0].index, 1);
  });

  test('rows come in batches of batchRows', async () => {
    const body = `a\n${Array.from({ length: 25 }, (_, i) => i).join('\n')}\n`;
    const parsed = parseDataset(Readable.from([Buffer.from(body)]), 'csv', { ...LIMITS, batchRows: 10 });
    const sizes: number[] = [];
    for await (const b of parsed) sizes.push(b.length);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.equal(parsed.summary().rows, 25);
  });

  test('a parse error leaves the body stream alive, to be drained or destroyed by its owner', async () => {
    const body = new PassThrough();
    body.write('a,a\n1,2\n'); // the duplicate header fails at once, long before the body ends
    const parsed = parseDataset(body, 'csv', LIMITS);
    await assert.rejects(
      (async () => {
        for await (const _ of parsed);
      })(),
      (e) => e instanceof AppError && e.code === 'dataset_parse_error',
    );
    // The parser's pending read of the body settles only when more data arrives: let it.
    body.write('3,4\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(body.destroyed, false);
    body.end('5,6\n');
    body.resume();
    await once(body, 'end');
  });

  test('summary() before the end is an error', () => {
    const parsed = parseDataset(Readable.from([Buffer.from('a\n1\n')]), 'csv', LIMITS);
    assert.throws(() => parsed.summary(), /end/);
  });
});

describe('JSON array', () => {
  test('the header is the union of keys in first-seen order; earlier rows miss later keys', async () => {
    const r = await parseAll('[{"a":1,"b":"x"},\n{"b":"y","c":true},\n{"a":null}]', 'json', LIMITS);
    assert.deepEqual(r.columns, ['a', 'b', 'c']);
    assert.deepEqual(r.data[0].slice(0, 2), [1, 'x']);
    assert.equal(r.data[0][2], undefined);
    assert.deepEqual(r.data[1], [undefined, 'y', true]);
    assert.equal(r.data[2][0], null);
  });

  test('strings holding brackets, braces, quotes and escapes do not confuse the splitter', async () => {
    const rows = [{ s: 'a]b}c{[', t: 'quote " and \\ backslash', u: '\u2028 line sep' }, { s: '},{' }];
    const text = JSON.stringify(rows);
    // Feed it one character at a time so every state crosses a chunk boundary.
    const r = await parseAll(Readable.from([...text].map((c) => Buffer.from(c))), 'json', LIMITS);
    assert.deepEqual(r.data, [
      [rows[0].s, rows[0].t, rows[0].u],
      [rows[1].s, undefined, undefined],
    ]);
  });

  test('not an array: dataset_parse_error', async () => {
    const e = await fails('{"a":1}', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.match(e.message, /array of objects/);
    const e2 = await fails('"hello"', 'json');
    assert.equal(e2.code, 'dataset_parse_error');
  });

  test('an array of non-objects names the row', async () => {
    const e = await fails('[{"a":1}, 2]', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].index, 2);
    const e2 = await fails('[[1,2]]', 'json');
    assert.match(e2.message, /array, not an object/);
  });

  test('nested objects and arrays as cells name the column and row', async () => {
    const e = await fails('[{"a":1,"b":{"x":1}},\n{"a":[1,2],"b":2}]', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.deepEqual(
      e.errors?.map((x) => [x.field, x.index, x.line]),
      [
        ['b', 1, 1],
        ['a', 2, 2],
      ],
    );
  });

  test('invalid JSON inside an element names its line, not its text', async () => {
    const e = await fails('[{"a":1},\n{"a":secret}]', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].line, 2);
    assert.doesNotMatch(JSON.stringify(e.errors), /secret/);
  });

  test('trailing comma, unclosed array and trailing garbage are refused', async () => {
    for (const body of ['[{"a":1},]', '[{"a":1}', '[{"a":1}] x', '[{"a":1} {"a":2}]', '[{"a":1}']) {
      const e = await fails(body, 'json');
      assert.equal(e.code, 'dataset_parse_error', body);
    }
  });

  test('empty body, whitespace and an empty array', async () => {
    assert.equal((await fails('', 'json')).code, 'empty_body');
    assert.equal((await fails(' \n ', 'json')).code, 'empty_body');
    const e = await fails('[ ]', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.match(e.message, /no rows/);
  });

  test('an empty key is refused', async () => {
    const e = await fails('[{"":1}]', 'json');
    assert.equal(e.code, 'dataset_parse_error');
    assert.match(e.errors?.[0].message ?? '', /empty name/);
  });

  test('too many keys: quota_exceeded columnsPerDataset', async () => {
    const e = await fails('[{"a":1,"b":2},{"c":3}]', 'json', { maxRows: 10, maxColumns: 2 });
    assert.equal(e.code, 'quota_exceeded');
    assert.deepEqual(e.extra, { quota: 'columnsPerDataset', limit: 2, used: 3 });
  });

  test('too many rows: quota_exceeded rowsPerDataset', async () => {
    const e = await fails('[{"a":1},{"a":2},{"a":3}]', 'json', { maxRows: 2, maxColumns: 5 });
    assert.equal(e.code, 'quota_exceeded');
    assert.equal(e.extra?.quota, 'rowsPerDataset');
  });

  test('invalid UTF-8 and a BOM', async () => {
    assert.equal((await fails(Buffer.from([0x5b, 0xc3, 0x28, 0x5d]), 'json')).code, 'invalid_encoding');
    const r = await parseAll('\uFEFF[{"a":1}]', 'json', LIMITS);
    assert.deepEqual(r.columns, ['a']);
  });
});

describe('JSON Lines', () => {
  test('one object per line; blank lines and CRLF are fine; keys union', async () => {
    const r = await parseAll('{"a":1}\r\n\n{"b":"x","a":2}\n', 'ndjson', LIMITS);
    assert.deepEqual(r.columns, ['a', 'b']);
    assert.deepEqual(r.data, [[1], [2, 'x']]);
  });

  test('a bad line names its line number', async () => {
    const e = await fails('{"a":1}\n\n{"a":2\n{"a":3}\n', 'ndjson');
    assert.equal(e.code, 'dataset_parse_error');
    assert.equal(e.errors?.[0].line, 3);
  });

  test('a line that is not an object, and nested cells', async () => {
    const e = await fails('{"a":1}\n[1]\n', 'ndjson');
    assert.equal(e.errors?.[0].line, 2);
    assert.match(e.message, /not an object/);
    const e2 = await fails('{"a":1}\n{"a":{"b":1}}\n', 'ndjson');
    assert.deepEqual([e2.errors?.[0].field, e2.errors?.[0].line], ['a', 2]);
  });

  test('lines split across chunks', async () => {
    const text = '{"a":"x"}\n{"a":"y"}\n{"a":"z"}';
    const r = await parseAll(
      Readable.from([text.slice(0, 5), text.slice(5, 13), text.slice(13)].map((s) => Buffer.from(s))),
      'ndjson',
      LIMITS,
    );
    assert.deepEqual(r.data, [['x'], ['y'], ['z']]);
  });

  test('empty body', async () => {
    assert.equal((await fails('\n\n', 'ndjson')).code, 'empty_body');
  });
});
