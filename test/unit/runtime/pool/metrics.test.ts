// A scrape in a serving pool: the API process asks the primary, which sums every process's series
// (prom-client's aggregation); series read from the shared store are not multiplied by the process count.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { AppError } from '../../../../src/core/errors.ts';
import { aggregateMetrics, poolMetrics } from '../../../../src/runtime/pool/metrics.ts';
import type { MetricsJson, PoolChannel, ToChild, ToPrimary } from '../../../../src/runtime/pool/protocol.ts';

/** What one API process registers: a request counter and the store-read jobs gauge (as jobs.ts makes it). */
function processRegistry(requests: number, queued: number): Registry {
  const r = new Registry();
  new Counter({ name: 'req_total', help: 'requests', registers: [r] }).inc(requests);
  new Gauge({ name: 'queue_depth', help: 'from the store', registers: [r], aggregator: 'max' }).set(queued);
  return r;
}

describe('serving pool metrics', () => {
  test('aggregateMetrics sums counters and keeps the max of store-read gauges', async () => {
    const sets: MetricsJson[] = await Promise.all(
      [processRegistry(3, 7), processRegistry(4, 7)].map((r) => r.getMetricsAsJSON()),
    );
    const { text, contentType } = await aggregateMetrics(sets);
    assert.match(text, /^req_total 7$/m);
    assert.match(text, /^queue_depth 7$/m);
    assert.match(contentType, /text\/plain/);
  });

  test("an API process answers the primary's collect with its series and serves the primary's sum", async () => {
    const toChild = new Set<(m: unknown) => void>();
    const local = processRegistry(2, 1);
    const other = processRegistry(5, 1);
    // The primary's side, by hand: on a scrape, collect from this process, add another process's set.
    const channel: PoolChannel = {
      send(message) {
        const m = message as ToPrimary;
        const deliver = (x: ToChild) =>
          queueMicrotask(() => {
            for (const h of toChild) h(x);
          });
        if (m.pool === 'scrape') deliver({ pool: 'collect', id: 100 + m.id });
        if (m.pool === 'collected')
          void other.getMetricsAsJSON().then(async (o) => {
            const sum = await aggregateMetrics([m.metrics, o]);
            deliver({ pool: 'scrape', id: m.id - 100, ...sum });
          });
      },
      listen(handler) {
        toChild.add(handler);
        return () => toChild.delete(handler);
      },
    };
    const source = poolMetrics(channel, () => local, 1000);
    assert.match(await source.text(), /^req_total 7$/m);
    source.stop();
    assert.equal(toChild.size, 0);
  });

  test('a primary that does not answer: the scrape fails as 503 unavailable, naming why', async () => {
    const source = poolMetrics({ send() {}, listen: () => () => {} }, () => new Registry(), 20);
    await assert.rejects(source.text(), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'unavailable');
      assert.match(e.message, /no answer within 20 ms/);
      return true;
    });
    // A primary that answers with an error (its aggregation failed).
    let hear: ((m: unknown) => void) | undefined;
    const failing = poolMetrics(
      {
        send: (m) =>
          queueMicrotask(() => hear?.({ pool: 'scrape', id: (m as { id: number }).id, error: 'boom' })),
        listen: (fn) => {
          hear = fn;
          return () => {};
        },
      },
      () => new Registry(),
      1000,
    );
    await assert.rejects(failing.text(), /boom/);
  });
});
