// The model cache: LRU eviction by bytes one entry at a time, single-flight loads, failed loads not
// cached, and an entry evicted while a request holds it disposed only when that request lets go.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Cacheable, ModelCache } from '../../../src/runtime/model-cache.ts';

class Fake implements Cacheable {
  disposed = 0;
  constructor(
    readonly name: string,
    readonly bytes: number,
  ) {}
  dispose(): void {
    this.disposed++;
  }
}

const loader = (name: string, bytes: number, loads: string[]) => async () => {
  loads.push(name);
  await new Promise((r) => setTimeout(r, 5));
  return new Fake(name, bytes);
};

describe('model cache', () => {
  test('evicts least recently used entries, one at a time, until the budget holds', async () => {
    const evicted: string[] = [];
    const cache = new ModelCache<Fake>(100, { evicted: (k) => evicted.push(k) });
    const loads: string[] = [];
    const held: Record<string, Fake> = {};
    for (const k of ['a', 'b', 'c']) {
      const l = await cache.acquire(k, loader(k, 30, loads));
      held[k] = l.value;
      l.release();
    }
    assert.equal(cache.bytes, 90);
    // Touch `a`: `b` becomes the least recently used.
    (await cache.acquire('a', loader('a', 30, loads))).release();
    (await cache.acquire('d', loader('d', 30, loads))).release();
    assert.deepEqual(evicted, ['b']);
    assert.equal(held.b.disposed, 1);
    assert.equal(cache.bytes, 90);
    assert.ok(cache.has('a') && cache.has('c') && cache.has('d'));
    // A 60-byte entry needs two evictions — exactly two, the two oldest, not the whole cache.
    (await cache.acquire('e', loader('e', 60, loads))).release();
    assert.deepEqual(evicted, ['b', 'c', 'a']);
    assert.ok(cache.bytes <= 100);
    assert.ok(cache.has('d') && cache.has('e'));
    assert.deepEqual(loads, ['a', 'b', 'c', 'd', 'e']);
  });

  test('an entry larger than the budget is served alone', async () => {
    const cache = new ModelCache<Fake>(100);
    (await cache.acquire('small', loader('small', 10, []))).release();
    const big = await cache.acquire('big', loader('big', 500, []));
    assert.equal(big.value.name, 'big');
    assert.equal(cache.size, 1);
    big.release();
  });

  test('50 concurrent misses of one key share one load', async () => {
    let misses = 0;
    let loadsDone = 0;
    const cache = new ModelCache<Fake>(1000, { miss: () => misses++, loaded: () => loadsDone++ });
    const loads: string[] = [];
    const leases = await Promise.all(
      Array.from({ length: 50 }, () => cache.acquire('m', loader('m', 10, loads))),
    );
    assert.deepEqual(loads, ['m']);
    assert.equal(loadsDone, 1);
    assert.equal(misses, 50);
    assert.ok(leases.every((l) => l.value === leases[0].value));
    for (const l of leases) l.release();
  });

  test('a failed load is not cached: every waiter gets the error, the next request loads again', async () => {
    const cache = new ModelCache<Fake>(1000);
    let n = 0;
    const failing = async () => {
      n++;
      await new Promise((r) => setTimeout(r, 2));
      throw new Error('corrupt');
    };
    const results = await Promise.allSettled([cache.acquire('x', failing), cache.acquire('x', failing)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(n, 1);
    assert.equal(cache.has('x'), false);
    const ok = await cache.acquire('x', loader('x', 1, []));
    assert.equal(ok.value.name, 'x');
    ok.release();
  });

  test('an entry evicted while held is disposed only when released', async () => {
    const cache = new ModelCache<Fake>(50);
    const a = await cache.acquire('a', loader('a', 40, []));
    (await cache.acquire('b', loader('b', 40, []))).release();
    assert.equal(cache.has('a'), false);
    assert.equal(a.value.disposed, 0, 'still in use by a request');
    a.release();
    a.release(); // a second release changes nothing
    assert.equal(a.value.disposed, 1);
  });

  test('close disposes every entry', async () => {
    const cache = new ModelCache<Fake>(1000);
    const l = await cache.acquire('a', loader('a', 1, []));
    l.release();
    await cache.close();
    assert.equal(l.value.disposed, 1);
    assert.equal(cache.size, 0);
  });
});
