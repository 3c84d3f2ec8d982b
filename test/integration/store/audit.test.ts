import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GENESIS_HASH, hashEntry, verifyChain } from '../../../src/core/audit-chain.ts';
import type { AuditEntry, NewAuditEntry } from '../../../src/core/types.ts';
import { at, describeStores, newTenant, scopeOf, T0 } from './fixtures.ts';

function entry(tenantId: string | null, i: number, over: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    tenantId,
    actorKeyId: tenantId ? `tk_${tenantId}` : 'operator',
    actorRole: tenantId ? 'admin' : 'operator',
    action: `action.${i}`,
    target: `target-${i}`,
    outcome: 'ok',
    requestId: `req-${i}`,
    at: at(i),
    ...over,
  };
}

/** A valid chain built in memory, without a store. */
function buildChain(n: number, tenantId: string | null = 't'): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = { seq: i, ...entry(tenantId, i) };
    const hash = hashEntry(prevHash, fields);
    out.push({ ...fields, prevHash, hash });
    prevHash = hash;
  }
  return out;
}

describe('audit chain (pure)', () => {
  test('hashEntry is sha256 hex, independent of field order, and covers every field', () => {
    const e = { seq: 1, ...entry('t', 1) };
    const h = hashEntry(GENESIS_HASH, e);
    assert.match(h, /^[0-9a-f]{64}$/);
    const reordered = Object.fromEntries(Object.entries(e).reverse()) as typeof e;
    assert.equal(hashEntry(GENESIS_HASH, reordered), h);
    for (const k of Object.keys(e) as (keyof typeof e)[]) {
      const changed = { ...e, [k]: k === 'seq' ? 2 : k === 'tenantId' ? 'u' : `${String(e[k])}x` };
      assert.notEqual(hashEntry(GENESIS_HASH, changed), h, `${k} is covered`);
    }
    assert.notEqual(hashEntry('1'.repeat(64), e), h, 'the previous hash is covered');
  });

  test('verifyChain accepts a valid chain and the empty chain', () => {
    assert.deepEqual(verifyChain(buildChain(5)), { ok: true, length: 5 });
    assert.deepEqual(verifyChain([]), { ok: true, length: 0 });
    const c = buildChain(3);
    assert.deepEqual(verifyChain(c, { head: { seq: 3, hash: c[2].hash } }), { ok: true, length: 3 });
    assert.deepEqual(verifyChain([], { head: null }), { ok: true, length: 0 });
  });

  test('verifyChain finds an altered field', () => {
    const c = buildChain(5);
    c[2] = { ...c[2], outcome: 'denied' };
    const v = verifyChain(c);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.brokenAt, 3);
  });

  test('verifyChain finds an altered entry whose hash was recomputed (the next link breaks)', () => {
    const c = buildChain(5);
    const forged = { ...c[1], target: 'elsewhere' };
    forged.hash = hashEntry(forged.prevHash, forged);
    c[1] = forged;
    const v = verifyChain(c);
    assert.equal(!v.ok && v.brokenAt, 3);
  });

  test('verifyChain finds a removed entry, a renumbered gap, a reordering and a cut tail', () => {
    const removed = buildChain(5).filter((e) => e.seq !== 3);
    const v1 = verifyChain(removed);
    assert.equal(!v1.ok && v1.brokenAt, 3);

    const renumbered = removed.map((e, i) => ({ ...e, seq: i + 1 }));
    const v2 = verifyChain(renumbered);
    assert.equal(!v2.ok && v2.brokenAt, 3);

    const c = buildChain(5);
    const swapped = [c[0], c[2], c[1], c[3], c[4]];
    const v3 = verifyChain(swapped);
    assert.equal(!v3.ok && v3.brokenAt, 2);

    const full = buildChain(5);
    const v4 = verifyChain(full.slice(0, 4), { head: { seq: 5, hash: full[4].hash } });
    assert.equal(!v4.ok && v4.brokenAt, 5);
    assert.equal(verifyChain(full.slice(0, 4)).ok, true, 'without the head a cut tail cannot be seen');
  });

  test('verifyChain refuses an entry of another chain', () => {
    const c = buildChain(2);
    const foreign = buildChain(3, 'other')[2];
    const v = verifyChain([...c, foreign]);
    assert.equal(!v.ok && v.brokenAt, 3);
  });
});

describeStores('store: audit', ({ kind, store, t }) => {
  test('append builds one chain per tenant and one operator chain', async () => {
    const s = store();
    await s.tenants.create(newTenant('au1'), 'operator', T0);
    await s.tenants.create(newTenant('au2'), 'operator', T0);
    const e1 = await s.audit.append(entry('au1', 1));
    const o1 = await s.audit.append(entry(null, 2));
    const e2 = await s.audit.append(entry('au1', 3));
    const f1 = await s.audit.append(entry('au2', 4));
    assert.deepEqual([e1.seq, e2.seq, o1.seq, f1.seq], [1, 2, 1, 1]);
    assert.equal(e1.prevHash, GENESIS_HASH);
    assert.equal(e2.prevHash, e1.hash);
    assert.deepEqual(await s.audit.chain('au1'), [e1, e2]);
    assert.deepEqual(await s.audit.chain(null), [o1]);
    assert.deepEqual(await s.audit.head('au1'), { seq: 2, hash: e2.hash });
    assert.equal(await s.audit.head('nobody'), null);
    for (const id of ['au1', 'au2', null]) {
      const v = verifyChain(await s.audit.chain(id), { head: await s.audit.head(id) });
      assert.equal(v.ok, true, `chain ${id}`);
    }
  });

  test('list pages a tenant its own entries; listAll crosses chains or narrows to one', async () => {
    const s = store();
    await s.tenants.create(newTenant('au3'), 'operator', T0);
    const mine: AuditEntry[] = [];
    for (let i = 1; i <= 5; i++) mine.push(await s.audit.append(entry('au3', 10 + i)));
    assert.deepEqual(await s.audit.list(scopeOf('au3')), mine);
    assert.deepEqual(await s.audit.list(scopeOf('au3'), { limit: 2 }), mine.slice(0, 2));
    assert.deepEqual(await s.audit.list(scopeOf('au3'), { after: 2, limit: 2 }), mine.slice(2, 4));
    assert.deepEqual(await s.audit.listAll({ tenantId: 'au3', after: 4 }), mine.slice(4));
    const operator = await s.audit.listAll({ tenantId: null });
    assert.ok(operator.length > 0 && operator.every((e) => e.tenantId === null));
    const all = await s.audit.listAll({ limit: 1000 });
    assert.ok(all.some((e) => e.tenantId === null) && all.some((e) => e.tenantId === 'au3'));
    const times = all.map((e) => e.at);
    assert.deepEqual(times, [...times].sort(), 'listAll orders by time');
  });

  test('20 concurrent appends to one chain make a valid chain of 20', async () => {
    const s = store();
    await s.tenants.create(newTenant('au4'), 'operator', T0);
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => s.audit.append(entry('au4', i))));
    assert.deepEqual(
      appended.map((e) => e.seq).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const chain = await s.audit.chain('au4');
    assert.equal(chain.length, 20);
    assert.deepEqual(verifyChain(chain, { head: await s.audit.head('au4') }), { ok: true, length: 20 });
  });

  test('verifyChain detects a row altered or deleted with raw SQL', async () => {
    const s = store();
    await s.tenants.create(newTenant('au5'), 'operator', T0);
    for (let i = 1; i <= 6; i++) await s.audit.append(entry('au5', i));
    assert.equal(verifyChain(await s.audit.chain('au5')).ok, true);

    await t().query("update audit_entries set outcome = 'denied' where chain = ? and seq = ?", ['au5', 2]);
    const altered = verifyChain(await s.audit.chain('au5'));
    assert.equal(altered.ok, false);
    assert.equal(!altered.ok && altered.brokenAt, 2);
    await t().query("update audit_entries set outcome = 'ok' where chain = ? and seq = ?", ['au5', 2]);
    assert.equal(verifyChain(await s.audit.chain('au5')).ok, true, 'restored');

    await t().query('delete from audit_entries where chain = ? and seq = ?', ['au5', 4]);
    const gap = verifyChain(await s.audit.chain('au5'));
    assert.equal(!gap.ok && gap.brokenAt, 4);

    await t().query('delete from audit_entries where chain = ? and seq >= ?', ['au5', 4]);
    const cut = await s.audit.chain('au5');
    assert.equal(verifyChain(cut).ok, true, 'a cut tail alone looks like a shorter chain');
    const vs = verifyChain(cut, { head: await s.audit.head('au5') });
    assert.equal(!vs.ok && vs.brokenAt, 4, 'the head shows it');
  });

  test('deleteChain removes one tenant chain and its head', async () => {
    const s = store();
    await s.tenants.create(newTenant('au6'), 'operator', T0);
    await s.audit.append(entry('au6', 1));
    await s.audit.deleteChain('au6');
    assert.deepEqual(await s.audit.chain('au6'), []);
    assert.equal(await s.audit.head('au6'), null);
    const again = await s.audit.append(entry('au6', 2));
    assert.equal(again.seq, 1, `a new chain starts at 1 (${kind})`);
  });
});
