// GET /metrics in a serving pool (docs/serving-pool.md): a scrape reaches one API process (the port is
// shared), which asks the primary; the primary collects every process's series (and its own: the
// training workers') and sums them with prom-client's cluster aggregation, so that one scrape shows the
// whole pool. Series read from the shared store (jobs queued, …) say `aggregator: 'max'` where they are
// made: each process reads the same value.
import { AggregatorRegistry, type Registry } from 'prom-client';
import { AppError } from '../../core/errors.ts';
import { type MetricsJson, type PoolChannel, poolKind, type ToChild, type ToPrimary } from './protocol.ts';

/** What GET /metrics serves (the route's MetricsSource). */
export interface MetricsText {
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * An API process's side: answers the primary's `collect` with `local`'s series, and serves scrapes with
 * the pool's whole set (a 503 when the primary does not answer within `timeoutMs`).
 */
export function poolMetrics(
  channel: PoolChannel,
  local: () => Registry,
  timeoutMs: number,
): MetricsText & { stop(): void } {
  let nextId = 1;
  let contentType: string = local().contentType;
  const pending = new Map<number, (m: Extract<ToChild, { pool: 'scrape' }>) => void>();
  const stop = channel.listen((m) => {
    const kind = poolKind(m);
    if (kind === 'collect') {
      const { id } = m as Extract<ToChild, { pool: 'collect' }>;
      local()
        .getMetricsAsJSON()
        .then(
          (metrics) => channel.send({ pool: 'collected', id, metrics }),
          () => channel.send({ pool: 'collected', id, metrics: [] }),
        );
    } else if (kind === 'scrape') {
      const answer = m as Extract<ToChild, { pool: 'scrape' }>;
      pending.get(answer.id)?.(answer);
    }
  });
  return {
    get contentType() {
      return contentType;
    },
    text() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const unavailable = (why: string) =>
          new AppError('unavailable', `the serving pool's metrics could not be gathered: ${why}`);
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(unavailable(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, (answer) => {
          pending.delete(id);
          clearTimeout(timer);
          if ('error' in answer) return reject(unavailable(answer.error));
          contentType = answer.contentType;
          resolve(answer.text);
        });
        try {
          channel.send({ pool: 'scrape', id } satisfies ToPrimary);
        } catch (err) {
          pending.delete(id);
          clearTimeout(timer);
          reject(unavailable(err instanceof Error ? err.message : String(err)));
        }
      });
    },
    stop,
  };
}

/** The primary's side: the pool's series, summed (or as each series' aggregator says) over every set. */
export async function aggregateMetrics(sets: MetricsJson[]): Promise<{ text: string; contentType: string }> {
  const registry = AggregatorRegistry.aggregate(sets);
  return { text: await registry.metrics(), contentType: registry.contentType };
}
