// Deleting a tenant while its predictions wait in the prediction log (in the writer thread): the records
// are dropped and counted, its folder is deleted and stays deleted after the next flush, and serving the
// other tenants goes on — through the real platform, on both stores.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerTrained, trainTiny } from './fixtures.ts';

const trained = trainTiny();
const row = { x: 0.5, n: 1, color: 'red' };

for (const kind of STORE_KINDS) {
  describe(`tenant deletion and the prediction log (${kind})`, () => {
    let tp: TestPlatform;
    before(async () => {
      // A long flush period: the records are still buffered when the tenant is deleted.
      tp = await createTestPlatform(kind, {
        env: { TENANTML_PREDICTION_LOG_FLUSH_MS: '600000', TENANTML_WORKER_SLOTS: '0' },
      });
    });
    after(() => tp.cleanup());

    test("a deleted tenant's buffered predictions are dropped, never written into its deleted folder", async () => {
      const gone = await tp.tenant('logdel-a');
      const stays = await tp.tenant('logdel-b');
      for (const t of [gone, stays])
        await registerTrained(tp.platform, mintTenantScope(t.id, SYSTEM), 'churn', trained);
      const predict = (key: string) =>
        tp.call({ method: 'POST', url: '/v1/models/churn/predict', key, json: { instances: [row, row] } });
      for (let i = 0; i < 20; i++) {
        assert.equal((await predict(gone.predict)).status, 200);
        assert.equal((await predict(stays.predict)).status, 200);
      }
      const log = tp.platform.services.inference.predictionLog;
      const droppedBefore = log.droppedCount;
      const del = await tp.call({ method: 'DELETE', url: `/v1/tenants/${gone.id}`, key: tp.adminKey });
      assert.equal(del.status, 204, del.text);
      // Dropped as the tenant is deleted (before its folder goes), not at the next flush.
      assert.equal(log.droppedCount - droppedBefore, 40);
      await log.flush();
      const folder = join(tp.platform.config.artifactsDir, 'tenants', gone.id);
      assert.equal(existsSync(folder), false, "the deleted tenant's folder stays deleted");
      assert.equal(
        log.droppedCount - droppedBefore,
        40,
        'its 40 buffered predictions are dropped and counted',
      );
      // The other tenant's records were written.
      const keys = await log.list(mintTenantScope(stays.id, SYSTEM), 'churn');
      let records = 0;
      for (const k of keys) records += (await log.read(mintTenantScope(stays.id, SYSTEM), k)).length;
      assert.equal(records, 40);
      assert.equal((await predict(stays.predict)).status, 200, 'serving goes on');
    });
  });
}
