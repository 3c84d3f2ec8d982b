import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellText, isMissing, parseBoolean, parseDatetime, parseNumber } from '../../../src/core/cells.ts';

describe('reading raw cells', () => {
  test('missing markers, whatever their case and padding, and nothing else', () => {
    for (const v of [null, undefined, '', '  ', 'NA', 'n/a', ' NaN ', 'null', 'None', '?', Number.NaN]) {
      assert.equal(isMissing(v), true, String(v));
    }
    for (const v of ['0', 'none of these', 'nullable', ' nan-like ', 0, false, 'abcde']) {
      assert.equal(isMissing(v), false, String(v));
    }
  });

  test('numbers: plain, signed, exponent; not hex, not Infinity, not blanks', () => {
    assert.equal(parseNumber(' -1.5e3 '), -1500);
    assert.equal(parseNumber('.5'), 0.5);
    assert.equal(parseNumber(7), 7);
    for (const v of ['0x10', 'Infinity', '', '1,000', '1.2.3', true, Number.POSITIVE_INFINITY]) {
      assert.equal(parseNumber(v), undefined, String(v));
    }
  });

  test('booleans in their usual spellings', () => {
    assert.equal(parseBoolean('Yes'), true);
    assert.equal(parseBoolean('f'), false);
    assert.equal(parseBoolean('1'), true);
    assert.equal(parseBoolean('1', false), undefined);
    assert.equal(parseBoolean(2), undefined);
  });

  test('datetimes: ISO dates and times, UTC unless a zone is given', () => {
    assert.equal(parseDatetime('2024-02-29'), Date.UTC(2024, 1, 29));
    assert.equal(parseDatetime('2024-03-01 12:30'), Date.UTC(2024, 2, 1, 12, 30));
    assert.equal(parseDatetime('2024-03-01T12:30:00+02:00'), Date.UTC(2024, 2, 1, 10, 30));
  });

  test('a day the month does not have is not a date (no rolling over into the next month)', () => {
    for (const v of [
      '2024-02-30',
      '2023-02-29',
      '2024-04-31T10:00:00Z',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
    ]) {
      assert.equal(parseDatetime(v), undefined, v);
    }
  });

  test('text of numbers and booleans in their JSON spelling', () => {
    assert.equal(cellText(1.5), '1.5');
    assert.equal(cellText(false), 'false');
    assert.equal(cellText(null), undefined);
  });
});
