// A small HTTP/1.1 load generator for the serve benchmark, run in its own process (the other core) so it
// does not share the server's event loop. Raw keep-alive sockets, one request in flight per connection,
// responses framed by Content-Length (what Fastify sends). Two modes: closed loop (each connection sends
// again on its answer: peak throughput) and open loop (requests scheduled at a fixed rate; latency counts
// from the scheduled time, so a stalled server cannot hide its queueing — no coordinated omission).
import { connect, type Socket } from 'node:net';

export interface Job {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Several bodies to rotate through (density: one per tenant/model pick). Overrides path/body/headers. */
  requests?: { path: string; headers?: Record<string, string>; body?: string }[];
  mode: 'closed' | 'open';
  connections: number;
  /** Open loop: requests per second. */
  rate?: number;
  durationMs: number;
  /** Latencies before this offset are not recorded (warm-up). */
  warmupMs?: number;
}

export interface JobResult {
  name: string;
  sent: number;
  completed: number;
  /** Completed within the measured window, per second. */
  rps: number;
  statuses: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Open loop: requests that could not even be sent by the end (no free connection). */
  backlog: number;
}

function encode(method: string, path: string, headers: Record<string, string>, body?: string): Buffer {
  const b = body === undefined ? undefined : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (b) head += `Content-Type: application/json\r\nContent-Length: ${b.length}\r\n`;
  head += '\r\n';
  return b ? Buffer.concat([Buffer.from(head), b]) : Buffer.from(head);
}

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private done: ((status: number) => void) | null = null;
  busy = false;
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  send(req: Buffer, done: (status: number) => void): void {
    this.busy = true;
    this.done = done;
    this.socket.write(req);
  }
  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /content-length:\s*(\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (this.buf.length < end + 4 + len) return;
      const status = Number(head.slice(9, 12));
      this.buf = this.buf.subarray(end + 4 + len);
      const cb = this.done;
      this.done = null;
      this.busy = false;
      cb?.(status);
    }
  }
  close(): void {
    this.socket.destroy();
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function runJob(port: number, job: Job): Promise<JobResult> {
  const reqs = (job.requests ?? [{ path: job.path, headers: job.headers, body: job.body }]).map((r) =>
    encode(job.method, r.path, r.headers ?? {}, r.body),
  );
  const conns = await Promise.all(Array.from({ length: job.connections }, () => Conn.open(port)));
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let measured = 0;
  let next = 0;
  const t0 = performance.now();
  const warm = job.warmupMs ?? 0;
  const end = t0 + job.durationMs;
  const pick = (): Buffer => reqs[next++ % reqs.length];

  const fire = (c: Conn, scheduled: number, onDone: () => void): void => {
    sent++;
    c.send(pick(), (status) => {
      const now = performance.now();
      completed++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (scheduled - t0 >= warm && now <= end) {
        lat.push(now - scheduled);
        measured++;
      }
      onDone();
    });
  };

  let backlog = 0;
  await new Promise<void>((resolve) => {
    if (job.mode === 'closed') {
      let open = conns.length;
      const loop = (c: Conn): void => {
        if (performance.now() >= end) {
          if (--open === 0) resolve();
          return;
        }
        fire(c, performance.now(), () => loop(c));
      };
      for (const c of conns) loop(c);
      return;
    }
    const rate = job.rate ?? 100;
    const queue: number[] = []; // scheduled times waiting for a free connection
    let scheduledCount = 0;
    const idle: Conn[] = [...conns];
    const pump = (): void => {
      while (queue.length && idle.length) {
        const c = idle.pop()!;
        fire(c, queue.shift()!, () => {
          idle.push(c);
          pump();
        });
      }
    };
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - t0) / 1000) * rate);
      while (scheduledCount < due) queue.push(t0 + (scheduledCount++ * 1000) / rate);
      pump();
      if (now >= end) {
        clearInterval(tick);
        backlog = queue.length;
        // Let the requests in flight finish (bounded).
        const wait = setInterval(() => {
          if (idle.length === conns.length || performance.now() > end + 5000) {
            clearInterval(wait);
            resolve();
          }
        }, 5);
      }
    }, 1);
  });
  for (const c of conns) c.close();
  const sorted = Float64Array.from(lat).sort();
  return {
    name: job.name,
    sent,
    completed,
    rps: measured / ((job.durationMs - warm) / 1000),
    statuses,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    backlog,
  };
}

// As a child process: {port, jobs} in over IPC, results out; jobs of one message run at the same time.
if (process.send) {
  process.on('message', async (msg: { port: number; jobs: Job[] } | 'exit') => {
    if (msg === 'exit') process.exit(0);
    const results = await Promise.all(msg.jobs.map((j) => runJob(msg.port, j)));
    process.send!(results);
  });
}
