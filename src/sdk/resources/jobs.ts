// Training jobs: list, show, cancel, the live event stream, and waiting for the end — over the stream
// while it lasts, by polling once it drops.
import type { JobView } from '../../api/schemas.ts';
import { TenantmlError } from '../errors.ts';
import { isTransient, POLL_INTERVAL_MS, pollUntil, waitFailure, waitSignals } from '../poll.ts';
import { ROUTES } from '../routes.ts';
import { parseSse } from '../sse.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type JobState = JobView['state'];

/** States a job never leaves. */
export const FINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);

export const isFinalJobState = (state: string): state is JobState => FINAL_JOB_STATES.has(state as JobState);

/**
 * One event of `GET /v1/jobs/{id}/events`: `job` whenever the job changed (state, progress, attempts),
 * then one `end`. `state` is `unknown` when the job stopped being visible (deleted with its tenant).
 */
export type JobStreamEvent =
  | { type: 'job'; job: JobView }
  | {
      type: 'end';
      state: JobState | 'unknown';
      result: JobView['result'];
      error: JobView['error'];
    };

export interface JobListOptions extends CallOptions {
  state?: JobState;
  model?: string;
  /** 1–1000; the server's default is 100. */
  limit?: number;
}

export interface JobEventsOptions {
  /** Stops the stream; the iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** For the stream's headers only (a stream lasts as long as the job). Default: the client's. */
  timeoutMs?: number;
  /**
   * A stream silent for this long is taken as dropped (`stream_interrupted`). The server sends a
   * keep-alive comment every 15 s, so the default of 60 s only fires on a dead connection. 0: never.
   */
  idleTimeoutMs?: number;
}

export interface JobWaitOptions {
  /** Give up after this long with a `timeout` TenantmlError; default 0: wait as long as the job runs. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the job at every change seen (stream events, or polled changes). */
  onJob?: (job: JobView) => void;
  /** Polling interval once the stream dropped; default 1000 ms. */
  pollIntervalMs?: number;
  /** Passed to `events`. */
  idleTimeoutMs?: number;
}

export const EVENTS_IDLE_TIMEOUT_MS = 60_000;

function interrupted(id: string, why: string, cause?: unknown): TenantmlError {
  return new TenantmlError({
    status: 0,
    code: 'stream_interrupted',
    title: 'The event stream ended early',
    detail: `the event stream of job ${id} ${why}`,
    cause,
  });
}

function parseData(id: string, event: string, data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  throw new TenantmlError({
    status: 200,
    code: 'invalid_response',
    title: 'An event is not JSON',
    detail: `a "${event}" event of job ${id} does not hold a JSON object`,
  });
}

/** The tenant's training jobs: a tenant admin key, or the operator key with a tenant set on the client. */
export class JobsApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Newest first. */
  async list(opts: JobListOptions = {}): Promise<JobView[]> {
    const { state, model, limit, ...call } = opts;
    const res = await this.#t.request<{ jobs: JobView[] }>(ROUTES.listJobs, {
      ...call,
      query: { state, model, limit },
    });
    return res.jobs;
  }

  get(id: string, opts: CallOptions = {}): Promise<JobView> {
    return this.#t.request(ROUTES.getJob, { ...opts, params: { id } });
  }

  /** Asks the job to stop: a queued job is cancelled at once, a running one within about 2 s. */
  cancel(id: string, opts: CallOptions = {}): Promise<JobView> {
    return this.#t.request(ROUTES.cancelJob, { ...opts, params: { id } });
  }

  /**
   * The job's live events, parsed as they arrive; the iteration ends after the `end` event. A stream that
   * closes before it, or stays silent past `idleTimeoutMs`, rejects with `stream_interrupted`. Leaving the
   * loop early (break) closes the connection.
   */
  events(id: string, opts: JobEventsOptions = {}): AsyncIterable<JobStreamEvent> {
    return this.#events(id, opts);
  }

  async *#events(id: string, opts: JobEventsOptions): AsyncGenerator<JobStreamEvent> {
    const { signal, timeoutMs, idleTimeoutMs = EVENTS_IDLE_TIMEOUT_MS } = opts;
    const local = new AbortController();
    const linked = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
    const res = await this.#t.stream(ROUTES.jobEvents, { params: { id }, signal: linked, timeoutMs });

    let idle = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      if (idleTimeoutMs > 0) {
        timer = setTimeout(() => {
          idle = true;
          local.abort();
        }, idleTimeoutMs);
      }
    };
    async function* watched(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
      const reader = body.getReader();
      try {
        for (;;) {
          arm();
          const { value, done } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        clearTimeout(timer);
        await reader.cancel().catch(() => {});
      }
    }

    try {
      for await (const msg of parseSse(watched(res.body))) {
        if (msg.event === 'job') {
          yield { type: 'job', job: parseData(id, msg.event, msg.data) as unknown as JobView };
        } else if (msg.event === 'end') {
          const d = parseData(id, msg.event, msg.data);
          yield {
            type: 'end',
            state: (typeof d.state === 'string' ? d.state : 'unknown') as JobState | 'unknown',
            result: (d.result ?? null) as JobView['result'],
            error: typeof d.error === 'string' ? d.error : null,
          };
          return;
        }
        // Other event names are left for newer clients.
      }
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (e instanceof TenantmlError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw interrupted(id, idle ? `sent nothing for ${idleTimeoutMs} ms` : `broke off (${why})`, e);
    } finally {
      clearTimeout(timer);
      local.abort();
    }
    throw interrupted(id, 'closed before its end event');
  }

  /**
   * Resolves with the job once it is final (succeeded, failed, cancelled, timed_out) — whatever that
   * state is: check `job.state`. Follows the event stream, and polls `get` when the stream drops.
   */
  async wait(id: string, opts: JobWaitOptions = {}): Promise<JobView> {
    const { timeoutMs = 0, signal, onJob, pollIntervalMs = POLL_INTERVAL_MS, idleTimeoutMs } = opts;
    const { both, deadline } = waitSignals(signal, timeoutMs);
    let last: JobView | undefined;
    const seen = (job: JobView) => {
      last = job;
      onJob?.(job);
    };
    try {
      try {
        for await (const ev of this.events(id, { signal: both, idleTimeoutMs })) {
          if (ev.type === 'job') seen(ev.job);
          else if (last && last.state === ev.state) return last;
          else break; // the end came without its final job: read it below
        }
      } catch (e) {
        if (!isTransient(e)) throw e;
      }
      return await pollUntil(() => this.get(id, { signal: both }), {
        done: (job) => isFinalJobState(job.state),
        signal: both,
        intervalMs: pollIntervalMs,
        onChange: seen,
        last,
      });
    } catch (e) {
      throw waitFailure(
        e,
        signal,
        deadline,
        'The job did not finish in time',
        () => `job ${id} was still ${last?.state ?? 'unfinished'} after ${timeoutMs} ms`,
      );
    }
  }
}
