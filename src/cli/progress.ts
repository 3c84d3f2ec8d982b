// How a training job's progress is drawn: one line per job state (phase, a bar of iterations, the
// validation metric, the time left), redrawn in place on a terminal and printed once per change elsewhere.
import type { JobView } from '../api/schemas.ts';
import { isFinalJobState } from '../sdk/resources/jobs.ts';

const BAR_WIDTH = 24;

/** `45s`, `3m05s`, `2h04m`: seconds left, rounded up. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A metric value with four significant digits, without an exponent for everyday sizes. */
export function formatMetric(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-4)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

export function bar(done: number, total: number, width = BAR_WIDTH): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const seconds = (s: number) => `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;

/** The one line that describes where `job` stands. */
export function progressLine(job: JobView): string {
  const parts: string[] = [job.state];
  if (job.state === 'queued') {
    if (job.attempts > 0) parts.push(`to retry (attempt ${job.attempts + 1} of ${job.maxAttempts})`);
    else parts.push('waiting for a worker');
  } else if (job.state === 'running') {
    const p = job.progress;
    parts.push(p?.phase ?? 'starting');
    if (p?.totalIterations) {
      const it = p.iteration ?? 0;
      parts.push(bar(it, p.totalIterations), `${it}/${p.totalIterations}`);
    }
    if (p?.metric) parts.push(`${p.metric.name} ${formatMetric(p.metric.value)}`);
    if (p?.etaSeconds !== undefined) parts.push(`ETA ${formatEta(p.etaSeconds)}`);
    if (job.attempts > 1) parts.push(`attempt ${job.attempts} of ${job.maxAttempts}`);
    if (job.cancelRequested) parts.push('(cancelling)');
  } else if (job.state === 'succeeded') {
    if (job.result) parts.push(`${job.result.model} version ${job.result.version}`);
    parts.push(`in ${seconds(job.wallSeconds)}, CPU ${seconds(job.cpuSeconds)}`);
  } else if (job.error) {
    parts.push(job.error);
  }
  return parts.join('  ');
}

export interface ProgressOutput {
  write(text: string): void;
  /** Redraw one line in place (a terminal), or print a line per change (a pipe, a file, a CI log). */
  tty: boolean;
  /** Terminal width; a redrawn line is cut to fit so that it never wraps. */
  columns?: number;
}

/** Draws successive job states; the caller ends with `done`. */
export class ProgressPrinter {
  #last = '';
  #drawn = false;
  constructor(private readonly out: ProgressOutput) {}

  update(job: JobView): void {
    let line = progressLine(job);
    if (line === this.#last) return;
    this.#last = line;
    if (!this.out.tty) {
      this.out.write(`${line}\n`);
      return;
    }
    const max = (this.out.columns ?? 80) - 1;
    if (line.length > max) line = `${line.slice(0, Math.max(0, max - 1))}…`;
    // \r back to the line start, \x1b[K clears what a longer previous line left behind.
    this.out.write(`\r${line}\x1b[K`);
    this.#drawn = true;
    if (isFinalJobState(job.state)) this.done();
  }

  /** Leaves the cursor on a fresh line. */
  done(): void {
    if (this.#drawn) this.out.write('\n');
    this.#drawn = false;
  }
}
