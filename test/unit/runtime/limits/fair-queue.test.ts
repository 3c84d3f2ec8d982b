import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FairQueue } from '../../../../src/runtime/limits/fair-queue.ts';

/** Pops everything, returning the tenant ids in service order. */
const serveAll = (q: FairQueue<string>): string[] => {
  const out: string[] = [];
  for (let e = q.pop(); e; e = q.pop()) out.push(e.tenantId);
  return out;
};

describe('runtime/limits/fair-queue', () => {
  test('a newcomer is served next, not after the 100 requests a flooding tenant queued before it', () => {
    const q = new FairQueue<string>();
    q.charge('a', 1, 1); // a's request running now
    for (let i = 0; i < 100; i++) q.push('a', 1, 1, `a${i}`);
    q.push('b', 1, 1, 'b0');
    const order = serveAll(q);
    assert.equal(order.indexOf('b'), 0, `b served at position ${order.indexOf('b')}`);
    assert.equal(order.length, 101);
  });

  test('two backlogged tenants alternate; within one tenant the order is its arrival order', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 3; i++) q.push('a', 1, 1, `a${i}`);
    for (let i = 0; i < 3; i++) q.push('b', 1, 1, `b${i}`);
    const values: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) values.push(e.value);
    assert.deepEqual(values, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });

  test('slots follow weight: weight 4 against weight 1 gets four of every five', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 40; i++) q.push('premium', 1, 4, 'p');
    for (let i = 0; i < 40; i++) q.push('free', 1, 1, 'f');
    const first25 = serveAll(q).slice(0, 25);
    assert.equal(first25.filter((t) => t === 'premium').length, 20);
  });

  test('cost counts rows: a tenant sending 10-row requests gets a tenth of the requests of a 1-row tenant', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 30; i++) q.push('big', 10, 1, 'big');
    for (let i = 0; i < 30; i++) q.push('small', 1, 1, 'small');
    const first22 = serveAll(q).slice(0, 22);
    assert.equal(first22.filter((t) => t === 'big').length, 2);
  });

  test('remove, popNewest and longest; the newest request gives its virtual time back', () => {
    const q = new FairQueue<string>();
    const a0 = q.push('a', 1, 1, 'a0');
    q.push('a', 1, 1, 'a1');
    q.push('b', 1, 1, 'b0');
    assert.deepEqual(q.longest(), { tenantId: 'a', count: 2 });
    assert.equal(q.popNewest('a')?.value, 'a1');
    assert.equal(q.remove(a0), true);
    assert.equal(q.remove(a0), false, 'already gone');
    assert.equal(q.size, 1);
    assert.equal(q.sizeOf('a'), 0);
    // a's finish tag went back to 0 when its two requests left: its next one starts level with b's.
    const again = q.push('a', 1, 1, 'a2');
    assert.equal(again.start, 0);
    assert.deepEqual(
      q.drain().map((e) => e.value),
      ['b0', 'a2'],
    );
    assert.equal(q.size, 0);
    assert.equal(q.pop(), undefined);
  });

  test('a tenant that was idle gets no credit for it: its tag starts at the current virtual time', () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 10; i++) q.push('a', 1, 1, 'a');
    for (let i = 0; i < 5; i++) q.pop();
    const b = q.push('b', 1, 1, 'b');
    assert.equal(b.start, 4, 'the start tag of the request served last');
    assert.deepEqual(serveAll(q).slice(0, 2), ['b', 'a'], "b (tag 4) before a's next (tag 5)");
  });
});
