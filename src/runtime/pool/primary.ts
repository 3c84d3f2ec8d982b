// The primary of a serving pool (docs/serving-pool.md): forks the API processes (node:cluster: they share
// one listening port, whose connections the primary accepts and hands out in turn), replaces one that dies, answers their
// calls to the shared rate-limit buckets and gathers their metrics for a scrape, and stops them on close
// (each finishes its requests in flight). The processes run the same command as the primary; the primary
// serves no HTTP itself.
import cluster, { type Worker } from 'node:cluster';
import type { TokenBuckets } from '../limits/limiter.ts';
import { answerBucketCalls } from '../limits/pool-limiter.ts';
import { aggregateMetrics } from './metrics.ts';
import { type MetricsJson, POOL_PROCESS_ENV, poolKind, type ToChild, type ToPrimary } from './protocol.ts';

export interface ServingPoolOptions {
  /** API processes to keep running. */
  processes: number;
  /** The pool's shared buckets (this process's memory); null when the API processes count in Redis. */
  buckets: TokenBuckets | null;
  /** This process's own series (its training workers'), summed into every scrape. */
  ownMetrics?: () => Promise<MetricsJson>;
  /** A scrape waits this long for each API process's series; one that is late is left out, ms. Default 2000. */
  collectTimeoutMs?: number;
  /** First delay before a dead API process is replaced; doubles (to 30 s) while replacements die young, ms. Default 1000. */
  restartDelayMs?: number;
  /** How long close waits for the API processes to finish their requests before killing them, ms. Default 30,000. */
  closeGraceMs?: number;
  log: {
    info(obj: Record<string, unknown>, msg: string): void;
    warn(obj: Record<string, unknown>, msg: string): void;
  };
}

export interface ServingPool {
  /** The port the pool listens on, as its first API process reported it (the configured one, or the one port 0 got). */
  readonly port: number;
  /** Stops every API process (SIGTERM: requests in flight finish), then releases the buckets. */
  close(): Promise<void>;
}

/** A process that lived less than this was replaced too soon: the next replacement waits twice as long. */
const YOUNG_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

export async function startServingPool(opts: ServingPoolOptions): Promise<ServingPool> {
  if (!cluster.isPrimary) throw new Error('a serving pool is started by a primary process');
  const collectTimeoutMs = opts.collectTimeoutMs ?? 2000;
  const baseDelay = opts.restartDelayMs ?? 1000;
  const workers = new Map<number, { worker: Worker; index: number; startedAt: number }>();
  const restartTimers = new Set<ReturnType<typeof setTimeout>>();
  let restartDelay = baseDelay;
  let closing = false;
  let started = false;
  let port: number | undefined;

  // A scrape in progress: the sets gathered so far and who has yet to answer.
  let nextCollect = 1;
  const collecting = new Map<number, { sets: MetricsJson[]; waiting: Set<number>; done: () => void }>();

  const gather = async (): Promise<MetricsJson[]> => {
    const id = nextCollect++;
    const sets: MetricsJson[] = [];
    const waiting = new Set<number>();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        if (waiting.size)
          opts.log.warn({ late: waiting.size }, 'serving pool: a scrape left out late processes');
        collecting.delete(id);
        resolve();
      }, collectTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve();
      };
      collecting.set(id, { sets, waiting, done });
      for (const { worker } of workers.values()) {
        if (!worker.isConnected()) continue;
        waiting.add(worker.id);
        send(worker, { pool: 'collect', id });
      }
      if (!waiting.size) done();
    });
    if (opts.ownMetrics) sets.push(await opts.ownMetrics());
    return sets;
  };

  const send = (worker: Worker, message: ToChild): void => {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch {
      // gone since: its 'exit' handler replaces it
    }
  };

  const onMessage = (worker: Worker, m: unknown): void => {
    switch (poolKind(m)) {
      case 'buckets': {
        const { id, calls } = m as Extract<ToPrimary, { pool: 'buckets' }>;
        if (!opts.buckets) return;
        answerBucketCalls(opts.buckets, calls).then(
          (answers) => send(worker, { pool: 'buckets', id, answers }),
          (err) => opts.log.warn({ err: String(err) }, 'serving pool: a batch of bucket calls failed'),
        );
        return;
      }
      case 'scrape': {
        const { id } = m as Extract<ToPrimary, { pool: 'scrape' }>;
        gather()
          .then(aggregateMetrics)
          .then(
            (r) => send(worker, { pool: 'scrape', id, ...r }),
            (err) => send(worker, { pool: 'scrape', id, error: String(err) }),
          );
        return;
      }
      case 'collected': {
        const { id, metrics } = m as Extract<ToPrimary, { pool: 'collected' }>;
        const c = collecting.get(id);
        if (!c?.waiting.delete(worker.id)) return;
        c.sets.push(metrics);
        if (!c.waiting.size) c.done();
        return;
      }
    }
  };

  let failStart: ((err: Error) => void) | undefined;
  let listening = 0;
  let allListening: (() => void) | undefined;

  const fork = (index: number): void => {
    const worker = cluster.fork({ [POOL_PROCESS_ENV]: '1' });
    const entry = { worker, index, startedAt: Date.now() };
    workers.set(worker.id, entry);
    worker.on('message', (m) => onMessage(worker, m));
    worker.once('listening', (addr) => {
      port ??= addr.port;
      opts.log.info({ index, apiPid: worker.process.pid }, 'serving pool: API process listening');
      if (!started && ++listening === opts.processes) allListening?.();
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker.id);
      for (const c of collecting.values()) if (c.waiting.delete(worker.id) && !c.waiting.size) c.done();
      if (closing) return;
      if (!started) {
        failStart?.(
          new Error(`API process ${index} exited (${signal ?? `code ${code}`}) before it listened`),
        );
        return;
      }
      const lived = Date.now() - entry.startedAt;
      // One that died young waits longer each time, so that a crash at start does not spin.
      const delay = lived < YOUNG_MS ? restartDelay : baseDelay;
      restartDelay = lived < YOUNG_MS ? Math.min(MAX_RESTART_DELAY_MS, delay * 2) : baseDelay;
      opts.log.warn(
        { index, apiPid: worker.process.pid, code, signal, restartInMs: delay },
        'serving pool: an API process exited; replacing it',
      );
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!closing) fork(index);
      }, delay);
      restartTimers.add(timer);
    });
  };

  const stopAll = async (): Promise<void> => {
    closing = true;
    for (const t of restartTimers) clearTimeout(t);
    restartTimers.clear();
    const exits = [...workers.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          worker.process.kill('SIGTERM');
        }),
    );
    const grace = setTimeout(() => {
      for (const { worker } of workers.values()) worker.process.kill('SIGKILL');
    }, opts.closeGraceMs ?? 30_000);
    await Promise.all(exits);
    clearTimeout(grace);
    await opts.buckets?.close();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      allListening = resolve;
      failStart = reject;
      for (let i = 0; i < opts.processes; i++) fork(i);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  started = true;

  return {
    port: port!,
    close: stopAll,
  };
}
