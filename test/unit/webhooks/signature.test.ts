// Signatures as a receiver checks them: the right secret and the exact body verify; another tenant's
// secret, a changed body, an old timestamp or a mangled header do not.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  computeSignature,
  signatureHeader,
  verifySignature,
} from '../../../src/services/webhooks/signature.ts';

const secretA = 'c2VjcmV0LW9mLXRlbmFudC1hLTMyLWJ5dGVzLWxvbmc';
const secretB = 'c2VjcmV0LW9mLXRlbmFudC1iLTMyLWJ5dGVzLWxvbmc';
const body = '{"id":"evt_1","event":"drift","tenantId":"a","at":"2026-01-01T00:00:00.000Z","data":{}}';
const t = 1_767_225_600; // 2026-01-01T00:00:00Z
const now = new Date(t * 1000 + 10_000);

describe('webhook signatures', () => {
  test('the header is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', secretA).update(`${t}.${body}`).digest('hex');
    assert.equal(signatureHeader(secretA, t, body), `t=${t},v1=${expected}`);
    assert.equal(computeSignature(secretA, t, Buffer.from(body)), expected);
  });

  test("verifies with the tenant's secret and the raw body", () => {
    assert.equal(verifySignature(secretA, signatureHeader(secretA, t, body), body, 300, now), true);
    assert.equal(
      verifySignature(secretA, signatureHeader(secretA, t, body), Buffer.from(body), 300, now),
      true,
    );
  });

  test("fails with another tenant's secret", () => {
    assert.equal(verifySignature(secretB, signatureHeader(secretA, t, body), body, 300, now), false);
  });

  test('fails when one byte of the body changed', () => {
    const changed = body.replace('drift', 'drifT');
    assert.equal(verifySignature(secretA, signatureHeader(secretA, t, body), changed, 300, now), false);
  });

  test('fails outside the tolerance, either way (replay, clock skew)', () => {
    const h = signatureHeader(secretA, t, body);
    assert.equal(verifySignature(secretA, h, body, 300, new Date((t + 301) * 1000)), false);
    assert.equal(verifySignature(secretA, h, body, 300, new Date((t - 301) * 1000)), false);
    assert.equal(verifySignature(secretA, h, body, 300, new Date((t + 300) * 1000)), true);
  });

  test('a re-timed header does not verify (the timestamp is signed)', () => {
    const sig = computeSignature(secretA, t, body);
    assert.equal(verifySignature(secretA, `t=${t + 5},v1=${sig}`, body, 300, now), false);
  });

  test('any one of several v1 entries may match (secret rotation)', () => {
    const h = `t=${t},v1=${computeSignature(secretB, t, body)},v1=${computeSignature(secretA, t, body)}`;
    assert.equal(verifySignature(secretA, h, body, 300, now), true);
  });

  test('malformed or missing headers fail, never throw', () => {
    for (const h of [
      undefined,
      null,
      '',
      't=abc,v1=00',
      `v1=${computeSignature(secretA, t, body)}`,
      `t=${t}`,
      `t=${t},v1=zz`,
      'garbage',
    ]) {
      assert.equal(verifySignature(secretA, h, body, 300, now), false, String(h));
    }
  });
});
