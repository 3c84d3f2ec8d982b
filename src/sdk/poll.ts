// Waiting by polling, shared by everything that ends on its own time: jobs once their event stream
// dropped, shared-model jobs (which have no stream) and advice. One place decides what a passing failure
// is, how a deadline becomes a `timeout` error, and when a change is reported.
import { TenantmlError } from './errors.ts';

export interface PollWaitOptions {
  /** Give up after this long with a `timeout` TenantmlError; default 0: wait as long as it takes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Time between two reads; default 1000 ms. */
  pollIntervalMs?: number;
}

export const POLL_INTERVAL_MS = 1000;
/** Polling tolerates this many failed reads in a row (a restarting server, a flaky proxy). */
const POLL_TRANSIENT_FAILURES = 5;

/** A dropped connection or a failing gateway: worth reading again. A refusal (404, 401…) is not. */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof TenantmlError)) return false;
  if (['stream_interrupted', 'network_error', 'timeout'].includes(e.code)) return true;
  return e.status >= 500;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The caller's signal joined with the deadline (`timeoutMs` > 0), and the deadline alone. */
export function waitSignals(
  signal: AbortSignal | undefined,
  timeoutMs: number,
): { both: AbortSignal | undefined; deadline: AbortSignal | undefined } {
  const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const signals = [signal, deadline].filter((s): s is AbortSignal => s !== undefined);
  return { both: signals.length > 1 ? AbortSignal.any(signals) : signals[0], deadline };
}

/**
 * What a wait that failed rejects with: the caller's own abort reason, a `timeout` error once the
 * deadline passed (`title` and `detail` say what was still unfinished), else the failure itself.
 */
export function waitFailure(
  e: unknown,
  signal: AbortSignal | undefined,
  deadline: AbortSignal | undefined,
  title: string,
  detail: () => string,
): unknown {
  if (signal?.aborted) return signal.reason;
  if (deadline?.aborted)
    return new TenantmlError({ status: 0, code: 'timeout', title, detail: detail(), cause: e });
  return e;
}

export interface PollOptions<T> {
  /** True once `value` will not change any more. */
  done: (value: T) => boolean;
  signal?: AbortSignal;
  intervalMs?: number;
  /** Called with each value that differs from the one before (compared as JSON). */
  onChange?: (value: T) => void;
  /** The last value already reported, so that reading it again is not reported twice. */
  last?: T;
}

/** Reads until `done`, sleeping between reads; a passing failure is retried a few times in a row. */
export async function pollUntil<T>(read: () => Promise<T>, opts: PollOptions<T>): Promise<T> {
  const { done, signal, intervalMs = POLL_INTERVAL_MS, onChange } = opts;
  let last = opts.last === undefined ? undefined : JSON.stringify(opts.last);
  let failures = 0;
  for (;;) {
    let value: T;
    try {
      value = await read();
      failures = 0;
    } catch (e) {
      if (!isTransient(e) || ++failures > POLL_TRANSIENT_FAILURES) throw e;
      await sleep(intervalMs, signal);
      continue;
    }
    const text = JSON.stringify(value);
    if (text !== last) {
      last = text;
      onChange?.(value);
    }
    if (done(value)) return value;
    await sleep(intervalMs, signal);
  }
}
