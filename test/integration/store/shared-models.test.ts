// The store side of the three model approaches, on both adapters: versions registered tainted, the
// successor rule of the live version, provenance (direct, and through a tuned model's base), the
// operator's "who holds tenant X's data" across namespaces (also after X is deleted), taint cascading to
// tuned versions in other tenants, tunedOn, and a shared model's audience.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { SHARED_NAMESPACE } from '../../../src/core/scope.ts';
import type { Store } from '../../../src/store/ports.ts';
import { at, describeStores, modelVersionInput, newTenant, scopeOf, T0 } from './fixtures.ts';

const shared = scopeOf(SHARED_NAMESPACE);
const ds = (tenantId: string, name: string, rows: number, version = 1) => ({
  tenantId,
  name,
  version,
  rows,
});

async function tenants(s: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await s.tenants.create(newTenant(id), 'operator', T0);
}

describeStores('store: shared and tuned models', ({ store }) => {
  // One store per suite: the shared namespace is created once, as the platform does at its first start.
  before(() => tenants(store(), SHARED_NAMESPACE));

  test('the shared namespace is created like a tenant, and never listed as one', async () => {
    const s = store();
    await tenants(s, 'listed');
    const ids = (await s.tenants.list()).map((t) => t.id);
    assert.ok(ids.includes('listed'));
    assert.ok(!ids.includes(SHARED_NAMESPACE), `list() hides ${SHARED_NAMESPACE}: ${ids.join(',')}`);
    assert.equal((await s.tenants.get(SHARED_NAMESPACE))?.id, SHARED_NAMESPACE, 'but it exists');
  });

  test('a version registered with a taint is tainted, and reads back so', async () => {
    const s = store();
    await tenants(s, 'tt-a');
    const scope = scopeOf('tt-a');
    const clean = await s.models.register(scope, modelVersionInput('m'));
    assert.deepEqual([clean.status, clean.taint], ['ok', null]);
    const taint = { at: at(3), reason: 'consent withdrawn by tenant x' };
    const dirty = await s.models.register(scope, modelVersionInput('m', { taint, createdAt: at(3) }));
    assert.deepEqual([dirty.status, dirty.taint], ['tainted', taint]);
    assert.deepEqual(await s.models.version(scope, 'm', 2), dirty);
    assert.deepEqual(
      (await s.models.versions(scope, 'm')).map((v) => v.status),
      ['ok', 'tainted'],
    );
  });

  test('successor rule: a clean version replaces a tainted live one; otherwise live stays', async () => {
    const s = store();
    await tenants(s, 'su-a');
    const scope = scopeOf('su-a');
    await s.models.register(scope, modelVersionInput('m', { createdAt: at(1) }));
    await s.models.register(scope, modelVersionInput('m', { createdAt: at(2) }));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 1, 'clean live + new: live stays');

    const newly = await s.models.taint(
      [{ tenantId: 'su-a', model: 'm', version: 1 }],
      'dataset deleted',
      at(3),
    );
    assert.deepEqual(
      newly.map((v) => [v.version, v.status, v.taint]),
      [[1, 'tainted', { at: at(3), reason: 'dataset deleted' }]],
    );
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 1, 'tainting alone moves nothing');

    const taint = { at: at(4), reason: 'still holds it' };
    await s.models.register(scope, modelVersionInput('m', { taint, createdAt: at(4) }));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 1, 'a tainted successor does not replace it');
    assert.deepEqual(await s.models.liveHistory(scope, 'm'), []);

    const v4 = await s.models.register(
      scope,
      modelVersionInput('m', { createdAt: at(5), createdBy: 'tk_trainer', jobId: 'job_su_4' }),
    );
    assert.equal(v4.version, 4);
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 4, 'the clean successor is live');
    assert.deepEqual(await s.models.liveHistory(scope, 'm'), [
      { model: 'm', fromVersion: 1, toVersion: 4, actor: 'tk_trainer', at: at(5), reason: 'successor' },
    ]);
    // Registering the same job again changes nothing, not even the history.
    await s.models.register(scope, modelVersionInput('m', { createdAt: at(6), jobId: 'job_su_4' }));
    assert.equal((await s.models.liveHistory(scope, 'm')).length, 1);

    await s.models.register(scope, modelVersionInput('m', { createdAt: at(7) }));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 4, 'clean live again: a new one waits');
    // The successor change is a history entry like a promotion: a rollback undoes it.
    assert.equal((await s.models.rollback(scope, 'm', 'tk_admin', at(8))).liveVersion, 1);

    // A model's first version is live even when tainted (none was live).
    await s.models.register(scope, modelVersionInput('first-dirty', { taint }));
    assert.equal((await s.models.get(scope, 'first-dirty'))?.liveVersion, 1);
  });

  test('provenance: one row per dataset, plus the base version’s rows for a tuned version', async () => {
    const s = store();
    await tenants(s, 'pv-a', 'pv-b', 'pv-c');
    await s.models.register(
      shared,
      modelVersionInput('pv-base', {
        mode: 'shared',
        datasets: [ds('pv-a', 'reviews', 700, 2), ds('pv-b', 'tickets', 300)],
      }),
    );
    const C = scopeOf('pv-c');
    await s.models.register(
      C,
      modelVersionInput('pv-tuned', {
        mode: 'tuned',
        base: { model: 'pv-base', version: 1 },
        datasets: [ds('pv-c', 'own', 50)],
      }),
    );
    const via = { model: 'pv-base', version: 1 };
    const rec = (source: ReturnType<typeof ds>, v: typeof via | null) => ({
      tenantId: 'pv-c',
      model: 'pv-tuned',
      version: 1,
      mode: 'tuned',
      status: 'ok',
      live: true,
      source: { tenantId: source.tenantId, dataset: source.name, version: source.version, rows: source.rows },
      via: v,
    });
    assert.deepEqual(await s.models.provenance(C, 'pv-tuned', 1), [
      rec(ds('pv-c', 'own', 50), null),
      rec(ds('pv-a', 'reviews', 700, 2), via),
      rec(ds('pv-b', 'tickets', 300), via),
    ]);
    assert.deepEqual(
      (await s.models.provenance(shared, 'pv-base', 1)).map((p) => [p.mode, p.source.tenantId, p.via]),
      [
        ['shared', 'pv-a', null],
        ['shared', 'pv-b', null],
      ],
    );
    // A base that is not (or no longer) there contributes nothing; the version still registers.
    await s.models.register(
      C,
      modelVersionInput('pv-orphan', { mode: 'tuned', base: { model: 'gone', version: 9 }, datasets: [] }),
    );
    assert.deepEqual(await s.models.provenance(C, 'pv-orphan', 1), []);
    // Scoped: another namespace's version has no provenance to this scope.
    assert.deepEqual(await s.models.provenance(scopeOf('pv-a'), 'pv-tuned', 1), []);
    assert.deepEqual(await s.models.provenance(C, 'pv-tuned', 2), []);
  });

  test('holdingDataOf: every namespace, through bases too, by dataset, and after the source tenant is gone', async () => {
    const s = store();
    await tenants(s, 'ho-x', 'ho-y', 'ho-z');
    await s.models.register(
      scopeOf('ho-x'),
      modelVersionInput('own', { datasets: [ds('ho-x', 'clicks', 10)], createdAt: at(1) }),
    );
    await s.models.register(
      shared,
      modelVersionInput('ho-pool', {
        mode: 'shared',
        datasets: [ds('ho-x', 'clicks', 20), ds('ho-y', 'clicks', 30)],
        createdAt: at(2),
      }),
    );
    await s.models.register(
      shared,
      modelVersionInput('ho-pool', {
        mode: 'shared',
        datasets: [ds('ho-x', 'orders', 40), ds('ho-y', 'clicks', 30)],
        createdAt: at(3),
      }),
    );
    await s.models.register(
      scopeOf('ho-z'),
      modelVersionInput('ho-tuned', {
        mode: 'tuned',
        base: { model: 'ho-pool', version: 1 },
        datasets: [ds('ho-z', 'mine', 5)],
        createdAt: at(4),
      }),
    );
    const key = (p: Awaited<ReturnType<Store['models']['holdingDataOf']>>[number]) =>
      `${p.tenantId}/${p.model}@${p.version} ${p.source.dataset} via=${p.via ? `${p.via.model}@${p.via.version}` : '-'} live=${p.live}`;

    assert.deepEqual((await s.models.holdingDataOf('ho-x')).map(key), [
      'ho-x/own@1 clicks via=- live=true',
      `${SHARED_NAMESPACE}/ho-pool@1 clicks via=- live=true`,
      `${SHARED_NAMESPACE}/ho-pool@2 orders via=- live=false`,
      'ho-z/ho-tuned@1 clicks via=ho-pool@1 live=true',
    ]);
    assert.deepEqual((await s.models.holdingDataOf('ho-x', 'orders')).map(key), [
      `${SHARED_NAMESPACE}/ho-pool@2 orders via=- live=false`,
    ]);
    assert.deepEqual(await s.models.holdingDataOf('ho-x', 'no-such-dataset'), []);
    assert.deepEqual(await s.models.holdingDataOf('nobody'), []);
    assert.deepEqual(
      (await s.models.holdingDataOf('ho-z')).map(key),
      ['ho-z/ho-tuned@1 mine via=- live=true'],
      "a tuned version's own data",
    );

    // The source tenant's own models go with it; the record that shared versions hold its data stays.
    assert.equal(await s.tenants.delete('ho-x'), true);
    assert.deepEqual((await s.models.holdingDataOf('ho-x')).map(key), [
      `${SHARED_NAMESPACE}/ho-pool@1 clicks via=- live=true`,
      `${SHARED_NAMESPACE}/ho-pool@2 orders via=- live=false`,
      'ho-z/ho-tuned@1 clicks via=ho-pool@1 live=true',
    ]);
  });

  test('taint cascades to tuned versions in every tenant, keeps the first reason, returns only the newly tainted', async () => {
    const s = store();
    await tenants(s, 'tc-a', 'tc-b');
    for (let i = 0; i < 2; i++)
      await s.models.register(shared, modelVersionInput('tc-base', { mode: 'shared', datasets: [] }));
    const tuned = (base: number) =>
      modelVersionInput('tc-tuned', { mode: 'tuned', base: { model: 'tc-base', version: base } });
    await s.models.register(scopeOf('tc-a'), tuned(1)); // tc-a v1 on base 1
    await s.models.register(scopeOf('tc-a'), tuned(2)); // tc-a v2 on base 2
    await s.models.register(scopeOf('tc-b'), tuned(1)); // tc-b v1 on base 1
    await s.models.register(scopeOf('tc-b'), modelVersionInput('tc-tuned')); // tc-b v2, tenant mode

    const ref = (v: { tenantId: string; model: string; version: number; status: string }) =>
      `${v.tenantId}/${v.model}@${v.version}:${v.status}`;
    const first = await s.models.taint(
      [{ tenantId: SHARED_NAMESPACE, model: 'tc-base', version: 1 }],
      'consent withdrawn',
      at(10),
    );
    assert.deepEqual(first.map(ref), [
      `${SHARED_NAMESPACE}/tc-base@1:tainted`,
      'tc-a/tc-tuned@1:tainted',
      'tc-b/tc-tuned@1:tainted',
    ]);
    assert.ok(first.every((v) => v.taint?.reason === 'consent withdrawn' && v.taint.at === at(10)));
    const statuses = async (tenantId: string, model: string) =>
      (await s.models.versions(scopeOf(tenantId), model)).map((v) => v.status);
    assert.deepEqual(
      await statuses('tc-a', 'tc-tuned'),
      ['tainted', 'ok'],
      'a tuned version on base 2 is clean',
    );
    assert.deepEqual(await statuses('tc-b', 'tc-tuned'), ['tainted', 'ok']);
    assert.deepEqual(await statuses(SHARED_NAMESPACE, 'tc-base'), ['tainted', 'ok']);

    // Again, with another reason, and base 2 too: only base 2 and what stands on it are new.
    const second = await s.models.taint(
      [
        { tenantId: SHARED_NAMESPACE, model: 'tc-base', version: 1 },
        { tenantId: SHARED_NAMESPACE, model: 'tc-base', version: 2 },
      ],
      'tenant deleted',
      at(11),
    );
    assert.deepEqual(second.map(ref), [`${SHARED_NAMESPACE}/tc-base@2:tainted`, 'tc-a/tc-tuned@2:tainted']);
    const v1 = await s.models.version(scopeOf('tc-a'), 'tc-tuned', 1);
    assert.deepEqual(v1?.taint, { at: at(10), reason: 'consent withdrawn' }, 'the first reason is kept');
    assert.deepEqual(
      await s.models.taint([{ tenantId: SHARED_NAMESPACE, model: 'tc-base', version: 2 }], 'x', at(12)),
      [],
    );
    assert.deepEqual(await s.models.taint([], 'x', at(12)), []);
    // A tenant's own version taints alone; a missing one is no error and taints nothing.
    assert.deepEqual(
      (
        await s.models.taint(
          [
            { tenantId: 'tc-b', model: 'tc-tuned', version: 2 },
            { tenantId: 'tc-b', model: 'missing', version: 1 },
          ],
          'dataset deleted',
          at(13),
        )
      ).map(ref),
      ['tc-b/tc-tuned@2:tainted'],
    );
  });

  test('tunedOn: tuned versions on any version of a shared model, in every tenant', async () => {
    const s = store();
    await tenants(s, 'to-a', 'to-b');
    await s.models.register(shared, modelVersionInput('to-base', { mode: 'shared' }));
    await s.models.register(shared, modelVersionInput('to-base', { mode: 'shared' }));
    await s.models.register(shared, modelVersionInput('to-other', { mode: 'shared' }));
    const tuned = (model: string, base: string, version: number, minute: number) =>
      modelVersionInput(model, { mode: 'tuned', base: { model: base, version }, createdAt: at(minute) });
    await s.models.register(scopeOf('to-b'), tuned('mine', 'to-base', 2, 1));
    await s.models.register(scopeOf('to-a'), tuned('churn', 'to-base', 1, 2));
    await s.models.register(scopeOf('to-a'), tuned('churn', 'to-other', 1, 3));
    await s.models.register(scopeOf('to-a'), modelVersionInput('to-base', { createdAt: at(4) }));
    assert.deepEqual(
      (await s.models.tunedOn('to-base')).map((v) => [v.tenantId, v.model, v.version, v.base]),
      [
        ['to-b', 'mine', 1, { model: 'to-base', version: 2 }],
        ['to-a', 'churn', 1, { model: 'to-base', version: 1 }],
      ],
    );
    assert.deepEqual(
      (await s.models.tunedOn('to-other')).map((v) => [v.tenantId, v.version]),
      [['to-a', 2]],
    );
    assert.deepEqual(await s.models.tunedOn('nothing'), []);
  });

  test('setAudience publishes a shared model; summaries carry it', async () => {
    const s = store();
    await tenants(s, 'au-a');
    await s.models.register(shared, modelVersionInput('au-model', { mode: 'shared' }));
    assert.equal((await s.models.get(shared, 'au-model'))?.audience, null, 'unpublished');
    const all = await s.models.setAudience(shared, 'au-model', 'all');
    assert.deepEqual([all.name, all.audience, all.liveVersion], ['au-model', 'all', 1]);
    await s.models.setAudience(shared, 'au-model', ['au-a', 'au-b']);
    assert.deepEqual((await s.models.get(shared, 'au-model'))?.audience, ['au-a', 'au-b']);
    assert.deepEqual((await s.models.list(shared)).find((m) => m.name === 'au-model')?.audience, [
      'au-a',
      'au-b',
    ]);
    await assert.rejects(
      s.models.setAudience(shared, 'missing', 'all'),
      (e: unknown) => e instanceof AppError && e.code === 'not_found',
    );
    const A = scopeOf('au-a');
    await s.models.register(A, modelVersionInput('own'));
    await assert.rejects(
      s.models.setAudience(A, 'own', 'all'),
      (e: unknown) => e instanceof AppError && e.code === 'validation_failed',
      'a tenant model has no audience',
    );
    assert.equal((await s.models.get(A, 'own'))?.audience, null);
  });
});

describeStores('store: advisor candidates', ({ store }) => {
  test('a candidate never goes live by registering: not as the first version, not as a successor', async () => {
    const s = store();
    await tenants(s, 'cand-a');
    const scope = scopeOf('cand-a');
    await s.models.register(scope, modelVersionInput('m', { candidate: true }));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, null);
    await s.models.promote(scope, 'm', 1, 'tk_admin', at(1));
    await s.models.taint([{ tenantId: 'cand-a', model: 'm', version: 1 }], 'test', at(2));
    await s.models.register(scope, modelVersionInput('m', { candidate: true }));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 1, 'a candidate is no successor');
    await s.models.register(scope, modelVersionInput('m'));
    assert.equal((await s.models.get(scope, 'm'))?.liveVersion, 3, 'an ordinary clean version is');
  });
});
