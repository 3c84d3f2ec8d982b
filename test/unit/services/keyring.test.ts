// The key ring's cache: each tenant's data key in memory of its own (a pooled 32-byte slice would keep
// Node's whole 8 KiB pool slab alive per cached tenant), the same key on every call, zeroed on forget.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyRing } from '../../../src/services/keyring.ts';
import { newDataKey, wrapKey } from '../../../src/store/artifacts/envelope.ts';

const master = Buffer.alloc(32, 7);
const keys = new Map(['t1', 't2'].map((t) => [t, newDataKey()]));
const ring = new KeyRing(master, {
  wrappedDataKey: async (t: string) => {
    const k = keys.get(t);
    return k ? wrapKey(master, t, k) : null;
  },
});

test('a cached data key owns its memory: no pool slab is kept alive by it', async () => {
  const k1 = await ring.dataKey('t1');
  const k2 = await ring.dataKey('t2');
  assert.deepEqual(k1, keys.get('t1'));
  assert.deepEqual(k2, keys.get('t2'));
  for (const k of [k1, k2]) {
    assert.equal(k.byteOffset, 0);
    assert.equal(k.buffer.byteLength, 32, 'the key is not a slice of a larger (pooled) buffer');
  }
  assert.equal(await ring.dataKey('t1'), k1, 'the cached buffer on the next call');
});

test('forget zeroes the cached key and the next call unwraps it again', async () => {
  const k = await ring.dataKey('t2');
  ring.forget('t2');
  assert.deepEqual(k, Buffer.alloc(32));
  assert.deepEqual(await ring.dataKey('t2'), keys.get('t2'));
});
