// Monitoring runs through the real monitoring loop on both stores: a model judged in a cycle is one
// monitoring_runs event per model and window; a cycle with nothing new judges nothing; the same window
// judged again (a re-run) counts once; an idle model costs nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cryptoRandom } from '../../../src/core/clock.ts';
import { createRng } from '../../../src/ml/rng.ts';
import { BufferedMeter } from '../../../src/services/metering/meter.ts';
import { monitoringRunEvent } from '../../../src/services/metering/sources.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { createWorld, HOUR, T0, trainingCsv, type World } from '../monitoring/fixtures.ts';

const h = (i: number): number => Date.parse(T0) + i * HOUR;

for (const kind of STORE_KINDS) {
  describe(`monitoring runs are metered (${kind})`, () => {
    let w: World;
    let meter: BufferedMeter;
    const judged: string[] = [];
    before(async () => {
      w = await createWorld(kind, {
        onJudged: (tenantId, model, g, start) => {
          judged.push(`${tenantId}/${model}/${start}`);
          meter.record([monitoringRunEvent(tenantId, model, g, start, w.clock.now().toISOString())]);
        },
      });
      meter = new BufferedMeter({
        repo: w.tp.platform.store.usage,
        clock: w.clock,
        random: cryptoRandom,
        flushMs: 0,
      });
      for (const id of ['mm-a', 'mm-b']) {
        const t = await w.tp.tenant(id);
        assert.equal((await w.tp.upload(t.admin, 'sales', trainingCsv(300, 1))).status, 201);
      }
    });
    after(() => w.cleanup());

    const runs = async (tenantId: string): Promise<number> => {
      await meter.flush();
      const sums = await w.tp.platform.store.usage.sums(w.scope(tenantId), {
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-12-01T00:00:00.000Z',
        granularity: 'month',
      });
      return sums.filter((s) => s.kind === 'monitoring_runs').reduce((t, s) => t + s.quantity, 0);
    };

    test('one run per model judged and window; nothing new, nothing judged; an idle model costs nothing', async () => {
      const v = await w.model('mm-a', 'churn');
      await w.model('mm-b', 'idle');
      const rng = createRng(5);
      for (let i = 0; i < 3; i++) {
        await w.predict('mm-a', 'churn', v.version, h(i), 100, rng);
        const stats = await w.cycleAfter(h(i));
        assert.equal(stats.errors, 0, String(w.errors[0]));
      }
      assert.equal(judged.length, 3, judged.join());
      assert.equal(await runs('mm-a'), 3);
      assert.equal(await runs('mm-b'), 0, 'the idle model was never judged');

      // Another cycle with nothing new: nothing judged, nothing metered.
      w.clock.advance(10 * 60_000);
      await w.monitoring.cycle();
      assert.equal(judged.length, 3);

      // The last window's run again (a cycle re-run over it): the same id, counted once.
      const [tenantId, model, start] = judged[2].split('/');
      meter.record([monitoringRunEvent(tenantId, model, 'hour', start, w.clock.now().toISOString())]);
      assert.equal(await runs('mm-a'), 3);
    });
  });
}
