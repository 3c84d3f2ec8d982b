import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AppError, ERRORS, type ErrorCode } from '../../../src/core/errors.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

test('every error code is documented in docs/errors.md with its status', () => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((l) => new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`).test(l));
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.match(row, new RegExp(`\\|\\s*${status}\\s*\\|`), `docs/errors.md gives ${code} another status`);
  }
});

test('docs/errors.md documents no code that does not exist', () => {
  const documented = [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1]);
  for (const code of documented) assert.ok(code in ERRORS, `${code} is documented but not in the registry`);
});

test('AppError carries the registry status and title', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];
  for (const code of codes) {
    const e = new AppError(code);
    assert.equal(e.status, ERRORS[code].status);
    assert.equal(e.title, ERRORS[code].title);
  }
  assert.equal(new Set(codes).size, codes.length);
});
