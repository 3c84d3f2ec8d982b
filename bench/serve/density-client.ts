// The bench's side of the density step's two processes on one data folder: the setup (density-setup.ts,
// through tsx) writes the tenants and models, then the measured server (density-server.mjs) runs from the
// build as `npm start` runs it. Both are asked over IPC; the server's RSS is read from /proc/<pid>/status.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainedModel } from '../../src/ml/train.ts';
import { instance, settingsFromEnvironment } from './rig.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Builds src/ into dist/ (scripts/build.mjs, what `npm start` does first): the server runs what is checked out. */
export function buildForDensity(): void {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
}

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
  /** Predicts tenants `d<i>`'s model `m` one after another through the app (no socket). */
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
    readonly port: number,
    readonly adminKey: string,
  ) {}

  /**
   * Starts a process on the data folder `dataDir` (the caller's; it outlives both processes): `setup`
   * (density-setup.ts through tsx) or `server` (density-server.mjs from the build; call buildForDensity
   * first). `env` over the bench's TENANTML_* over the rig's defaults (loopback, silent, no workers);
   * `nodeArgs` go to node itself.
   */
  static async start(
    kind: 'setup' | 'server',
    dataDir: string,
    env: Record<string, string>,
    nodeArgs: string[] = [],
  ): Promise<DensityServer> {
    const child = fork(join(here, kind === 'setup' ? 'density-setup.ts' : 'density-server.mjs'), [], {
      execArgv: kind === 'setup' ? [...nodeArgs, '--import', 'tsx'] : nodeArgs,
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
        DENSITY_INSTANCE: JSON.stringify(instance(3)),
        ...settingsFromEnvironment(),
        ...env,
      },
    });
    const ready = await reply(child);
    if (ready.type !== 'ready') {
      child.kill();
      throw new Error(`density ${kind} did not start: ${JSON.stringify(ready)}`);
    }
    return new DensityServer(child, ready.port, ready.adminKey);
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

  /** Closes the platform and waits until the process has exited (the data folder stays). */
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
