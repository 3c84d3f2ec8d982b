import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fnv1a32, hashedCounts, ngrams, tokenize } from '../../../src/ml/text.ts';

describe('text hashing', () => {
  test('FNV-1a 32 matches the reference vectors (UTF-8 bytes)', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    // Non-ASCII hashes its UTF-8 bytes: compare with a byte-wise reference.
    for (const s of ['é', 'naïve café', '日本語', '😀 ok']) {
      let h = 0x811c9dc5;
      for (const byte of Buffer.from(s, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
      assert.equal(fnv1a32(s), h >>> 0, s);
    }
  });
  test('tokenize lower-cases words; ngrams add bigrams', () => {
    assert.deepEqual(tokenize('Hello, WORLD! Ça va? 42x'), ['hello', 'world', 'ça', 'va', '42x']);
    assert.deepEqual(ngrams(['a', 'b', 'c']), ['a', 'b', 'c', 'a b', 'b c']);
  });
  test('hashedCounts counts n-grams per bucket, buckets ascending', () => {
    const { buckets, counts } = hashedCounts('spam spam spam', 20);
    const spam = fnv1a32('spam') & ((1 << 20) - 1);
    const bigram = fnv1a32('spam spam') & ((1 << 20) - 1);
    const m = new Map([...buckets].map((b, j) => [b, counts[j]]));
    assert.equal(m.get(spam), 3);
    assert.equal(m.get(bigram), 2);
    assert.ok([...buckets].every((b, j) => j === 0 || buckets[j - 1] < b));
  });
});
