// Text to hashed term counts: lower-cased word unigrams and bigrams, each hashed with 32-bit FNV-1a of
// its UTF-8 bytes into 2^bits buckets. The hash is part of the artifact format: never change it.

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lower-cased words: runs of Unicode letters and digits. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD_RE) ?? [];
}

/** Unigrams, then bigrams joined by a single space. */
export function ngrams(words: string[]): string[] {
  const out = words.slice();
  for (let i = 0; i + 1 < words.length; i++) out.push(`${words[i]} ${words[i + 1]}`);
  return out;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-8 encoding of `s`, as an unsigned integer. */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    // Encode UTF-16 → UTF-8 inline (no allocation); lone surrogates become U+FFFD like TextEncoder.
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  return h >>> 0;
}

/** Hashed n-gram counts of one text: parallel arrays of bucket (ascending) and count. */
export function hashedCounts(text: string, bits: number): { buckets: Int32Array; counts: Float64Array } {
  const mask = (1 << bits) - 1;
  const counts = new Map<number, number>();
  for (const g of ngrams(tokenize(text))) {
    const b = fnv1a32(g) & mask;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const buckets = Int32Array.from(counts.keys()).sort();
  const values = new Float64Array(buckets.length);
  for (let j = 0; j < buckets.length; j++) values[j] = counts.get(buckets[j]) as number;
  return { buckets, counts: values };
}
