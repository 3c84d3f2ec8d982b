// Withdrawals on both databases, without training: shared versions are registered straight into the
// store with their provenance, and each kind of withdrawal (dataset deleted, tenant deleted, consent
// withdrawn) must taint exactly the versions holding that data, queue one retraining of the live shared
// model, and — under the `block` policy — stop resolution at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SHARED_NAMESPACE, SYSTEM, sharedScope } from '../../../src/core/scope.ts';
import { RegistryService } from '../../../src/services/registry.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { modelVersionInput, scopeOf } from '../store/fixtures.ts';

const csv = 'x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,a\n10,b\n11,a\n12,b\n';

for (const kind of STORE_KINDS) {
  describe(`withdrawals taint and retrain (${kind})`, () => {
    let tp: TestPlatform;
    const shared = sharedScope(SYSTEM);

    /** A shared version trained (as if) by a queued job on the given sources. */
    const sharedVersion = async (model: string, sources: { tenantId: string; name: string }[]) => {
      const job = await tp.platform.services.training.submitShared(shared, model, {
        dataset: sources[0]?.name ?? 'sales',
        target: 'y',
      });
      // Out of the way: a queued or running job of the model is already a retraining (busy).
      await tp.platform.store.jobs.requestCancel(shared, job.id, new Date().toISOString());
      return tp.platform.store.models.register(
        shared,
        modelVersionInput(model, {
          mode: 'shared',
          jobId: job.id,
          datasets: sources.map((s) => ({ ...s, version: 1, rows: 12 })),
        }),
      );
    };
    const status = async (model: string, version: number) =>
      (await tp.platform.store.models.version(shared, model, version))?.status;
    const queuedRetrains = async (model: string) =>
      (await tp.platform.store.jobs.list(shared, { model })).filter(
        (j) => j.spec.reason === 'retrain-after-taint',
      );

    before(async () => {
      tp = await createTestPlatform(kind);
      for (const id of ['wd-x', 'wd-y', 'wd-z']) {
        const t = await tp.tenant(id, { sharedTraining: true });
        assert.equal((await tp.upload(t.admin, 'sales', csv)).status, 201);
        assert.equal((await tp.upload(t.admin, 'leads', csv)).status, 201);
      }
    });
    after(() => tp.cleanup());

    test('deleting a dataset taints the versions trained on that dataset only, and queues one retraining', async () => {
      await sharedVersion('by-sales', [
        { tenantId: 'wd-x', name: 'sales' },
        { tenantId: 'wd-y', name: 'sales' },
      ]);
      await sharedVersion('by-leads', [{ tenantId: 'wd-x', name: 'leads' }]);
      const key = (
        await tp.call({
          method: 'POST',
          url: '/v1/tenants/wd-x/keys',
          key: tp.adminKey,
          json: { role: 'admin' },
        })
      ).body.key;
      const del = await tp.call({ method: 'DELETE', url: '/v1/datasets/sales', key });
      assert.equal(del.status, 204, del.text);
      assert.equal(await status('by-sales', 1), 'tainted');
      assert.equal(await status('by-leads', 1), 'ok');
      const v = await tp.platform.store.models.version(shared, 'by-sales', 1);
      assert.match(v?.taint?.reason ?? '', /dataset-deleted: tenant wd-x, dataset sales/);
      assert.equal((await queuedRetrains('by-sales')).length, 1);
      assert.equal((await queuedRetrains('by-leads')).length, 0);
      // The same withdrawal again (a retried request) queues nothing more.
      await tp.platform.services.provenance.withdraw({
        tenantId: 'wd-x',
        reason: 'dataset-deleted',
        dataset: 'sales',
      });
      assert.equal((await queuedRetrains('by-sales')).length, 1);
    });

    test('deleting a tenant taints what holds its data; the operator still sees whose data it was', async () => {
      await sharedVersion('by-z', [
        { tenantId: 'wd-z', name: 'sales' },
        { tenantId: 'wd-y', name: 'leads' },
      ]);
      const del = await tp.call({ method: 'DELETE', url: '/v1/tenants/wd-z', key: tp.adminKey });
      assert.equal(del.status, 204, del.text);
      assert.equal(await status('by-z', 1), 'tainted');
      const ofZ = await tp.call({ method: 'GET', url: '/v1/provenance?tenant=wd-z', key: tp.adminKey });
      assert.deepEqual(
        ofZ.body.versions.map((p: any) => `${p.tenantId}/${p.model}@${p.version}`),
        [`${SHARED_NAMESPACE}/by-z@1`],
      );
      assert.equal((await queuedRetrains('by-z')).length, 1);
    });

    test('consent withdrawn: tainted; turning consent on again does not clean the version', async () => {
      await sharedVersion('by-y', [{ tenantId: 'wd-y', name: 'leads' }]);
      const off = await tp.call({
        method: 'PATCH',
        url: '/v1/tenants/wd-y',
        key: tp.adminKey,
        json: { sharedTraining: false },
      });
      assert.equal(off.status, 200, off.text);
      assert.equal(await status('by-y', 1), 'tainted');
      await tp.call({
        method: 'PATCH',
        url: '/v1/tenants/wd-y',
        key: tp.adminKey,
        json: { sharedTraining: true },
      });
      assert.equal(await status('by-y', 1), 'tainted');
      // A tenant's consent change that is not a withdrawal (off → off, or on) taints nothing.
      await sharedVersion('by-x-leads', [{ tenantId: 'wd-x', name: 'leads' }]);
      await tp.call({
        method: 'PATCH',
        url: '/v1/tenants/wd-x',
        key: tp.adminKey,
        json: { name: 'renamed' },
      });
      assert.equal(await status('by-x-leads', 1), 'ok');
    });

    test('resolution: tainted versions serve until a successor under the default policy, never under block', async () => {
      await tp.platform.store.models.setAudience(shared, 'by-y', 'all');
      const scope = scopeOf('wd-x');
      const lenient = new RegistryService({ store: tp.platform.store, taintedServing: 'until-successor' });
      const strict = new RegistryService({ store: tp.platform.store, taintedServing: 'block' });
      assert.equal((await lenient.resolve(scope, 'by-y')).version, 1);
      await assert.rejects(strict.resolve(scope, 'by-y'), (e: any) => e.code === 'not_found');
      // A clean successor replaces the tainted live version as it registers.
      await tp.platform.store.models.register(
        shared,
        modelVersionInput('by-y', { mode: 'shared', datasets: [] }),
      );
      assert.equal((await strict.resolve(scope, 'by-y')).version, 2);
      assert.equal((await lenient.resolve(scope, 'by-y')).mode, 'shared');
    });
  });
}
