// Micro-batching for one model version: requests arriving within a short window are stacked into one
// input matrix, run as one ONNX call, and the outputs split back by row. ONNX Runtime's `run` works on
// the calling thread, so one call of 40 rows costs far less than 40 calls of one row.

/** One output of a run: row-major data whose first dimension is the row. */
export interface OutputTensor {
  data: ArrayLike<number | bigint | string>;
  dims: readonly number[];
}

export type Outputs = Record<string, OutputTensor>;

/**
 * One request's share of a run: its rows of the outputs, and the run's compute time split by rows (what
 * metering attributes to the request's tenant; a run's time is measured from its call to its answer).
 */
export interface BatchResult {
  outputs: Outputs;
  computeMs: number;
}

/** Runs the model on `rows` rows of `cols` float32 features. */
export type Runner = (input: Float32Array, rows: number) => Promise<Outputs>;

interface Pending {
  input: Float32Array;
  rows: number;
  resolve(o: BatchResult): void;
  reject(e: unknown): void;
}

export interface BatchStats {
  /** ONNX calls made, and the requests and rows they carried. */
  calls: number;
  requests: number;
  rows: number;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  readonly stats: BatchStats = { calls: 0, requests: 0, rows: 0 };

  constructor(
    private readonly run: Runner,
    private readonly cols: number,
    /**
     * How long the first request of a batch waits for others, ms. 0 waits for none: the requests submitted
     * in the same event-loop turn (those whose bytes were read together) share one run, which starts right
     * after that turn — batching without idle time.
     */
    private readonly windowMs: number,
    /** A batch this large runs at once instead of waiting for the window. */
    private readonly maxRows = 512,
  ) {}

  submit(input: Float32Array, rows: number): Promise<BatchResult> {
    if (input.length !== rows * this.cols) throw new Error('input length does not match rows × cols');
    if (rows >= this.maxRows) {
      this.stats.calls++;
      this.stats.requests++;
      this.stats.rows += rows;
      return this.timed(input, rows).then(([outputs, computeMs]) => ({ outputs, computeMs }));
    }
    return new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ input, rows, resolve, reject });
      this.queuedRows += rows;
      if (this.queuedRows >= this.maxRows) this.flush();
      else if (this.windowMs <= 0) {
        if (!this.immediate) this.immediate = setImmediate(() => this.flush());
      } else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** One run and how long it took, ms. */
  private async timed(input: Float32Array, rows: number): Promise<[Outputs, number]> {
    const t0 = performance.now();
    const out = await this.run(input, rows);
    return [out, performance.now() - t0];
  }

  /** Runs whatever is queued now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    const total = this.queuedRows;
    this.queue = [];
    this.queuedRows = 0;
    this.stats.calls++;
    this.stats.requests += batch.length;
    this.stats.rows += total;
    if (batch.length === 1) {
      const p = batch[0];
      this.timed(p.input, p.rows).then(([outputs, computeMs]) => p.resolve({ outputs, computeMs }), p.reject);
      return;
    }
    const input = new Float32Array(total * this.cols);
    let off = 0;
    for (const p of batch) {
      input.set(p.input, off * this.cols);
      off += p.rows;
    }
    this.timed(input, total).then(
      ([out, ms]) => {
        let start = 0;
        for (const p of batch) {
          p.resolve({ outputs: sliceRows(out, total, start, p.rows), computeMs: (ms * p.rows) / total });
          start += p.rows;
        }
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}

/** Rows [start, start + count) of every output of a run over `total` rows. */
function sliceRows(out: Outputs, total: number, start: number, count: number): Outputs {
  const res: Outputs = {};
  for (const [name, t] of Object.entries(out)) {
    const width = total === 0 ? 0 : t.data.length / total;
    const data = t.data as unknown as { slice(a: number, b: number): ArrayLike<number | bigint | string> };
    res[name] = {
      data: data.slice(start * width, (start + count) * width),
      dims: [count, ...t.dims.slice(1)],
    };
  }
  return res;
}
