// The bench's side of the density server (density-server.ts): a child process started like `npm start`
// (node --import tsx, the platform's environment), asked over IPC, its RSS read from /proc/<pid>/status.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainedModel } from '../../src/ml/train.ts';
import { settingsFromEnvironment } from './rig.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface DensityStats {
  hits: number;
  misses: number;
  loads: number;
  /** The cache's most recent load durations (ms), oldest first. */
  recentLoadMs: number[];
  size: number;
  bytes: number;
  /** Cached models per engine. */
  engines: Record<string, number>;
  memory: NodeJS.MemoryUsage;
  threads: number;
}

export type DensityRequest =
  | { type: 'setup'; n: number; trained: TrainedModel }
  | { type: 'predict'; tenants: number[] }
  | { type: 'stats' }
  | { type: 'snapshot'; file: string }
  | { type: 'close' };

export type DensityReply =
  | { type: 'ready'; port: number; adminKey: string }
  | { type: 'done' }
  | { type: 'stats'; stats: DensityStats }
  | { type: 'snapshot'; file: string }
  | { type: 'error'; message: string };

/** The resident set of process `pid` in MB (VmRSS of /proc/<pid>/status). */
export function vmRssMb(pid: number): number {
  const kb = /VmRSS:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

export class DensityServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly port: number,
    readonly adminKey: string,
  ) {}

  /** Starts the server: `env` over the bench's TENANTML_* over the rig's defaults (silent, no workers). */
  static async start(env: Record<string, string>, nodeArgs: string[] = []): Promise<DensityServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-bench-density-'));
    const child = fork(join(here, 'density-server.ts'), [], {
      execArgv: [...nodeArgs, '--import', 'tsx'],
      serialization: 'advanced',
      stdio: 'inherit',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: process.env.NODE_ENV,
        TENANTML_DATA_DIR: dataDir,
        TENANTML_HOST: '127.0.0.1',
        TENANTML_PORT: '0',
        TENANTML_LOG_LEVEL: 'silent',
        TENANTML_WORKER_SLOTS: '0',
        ...settingsFromEnvironment(),
        ...env,
      },
    });
    const ready = await reply(child);
    if (ready.type !== 'ready') {
      child.kill();
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`density server did not start: ${JSON.stringify(ready)}`);
    }
    return new DensityServer(child, dataDir, ready.port, ready.adminKey);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  rssMb(): number {
    return vmRssMb(this.pid);
  }

  async ask(req: DensityRequest): Promise<DensityReply> {
    const answer = reply(this.child);
    this.child.send(req);
    const r = await answer;
    if (r.type === 'error') throw new Error(`density server: ${r.message}`);
    return r;
  }

  async stats(): Promise<DensityStats> {
    const r = await this.ask({ type: 'stats' });
    if (r.type !== 'stats') throw new Error(`density server answered ${r.type} to stats`);
    return r.stats;
  }

  async close(): Promise<void> {
    try {
      await this.ask({ type: 'close' });
    } finally {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        // Something left holding the loop open must not hang the bench: a few seconds, then a kill.
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        await new Promise((r) => this.child.once('exit', r));
        clearTimeout(timer);
      }
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}

/** The child's next message; an exit before it is an error. */
function reply(child: ChildProcess): Promise<DensityReply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`density server exited (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as DensityReply);
    });
  });
}
