// The bench's side of server-child.mjs: a serve-benchmark server in a process of its own, run from the
// build as `npm start` runs it (see there). Readings of that process alone (RSS, OS threads) come from
// /proc/<pid>/status; the rest is asked over IPC.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainedModel } from '../../src/ml/train.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** TENANTML_* variables of the bench's own environment reach every server it starts (a step's own win). */
export function settingsFromEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith('TENANTML_') && v !== undefined) out[k] = v;
  return out;
}

/**
 * A bench server's environment: loopback, port 0, no training workers, then the bench's TENANTML_* and
 * `env`. Logs at the default level (info), as `npm start` writes them; their standard output is dropped.
 */
function serverEnv(dataDir: string, env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    TENANTML_DATA_DIR: dataDir,
    TENANTML_HOST: '127.0.0.1',
    TENANTML_PORT: '0',
    TENANTML_WORKER_SLOTS: '0',
    // As `npm start` runs the server (package.json): glibc's malloc with two arenas, not one per thread.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    ...settingsFromEnvironment(),
    ...env,
  };
}

let built = false;
/** Builds src/ into dist/ once per bench run (scripts/build.mjs, ~1 s): the servers run what is checked out. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
  built = true;
}

export interface CacheReading {
  hits: number;
  misses: number;
  loads: number;
  recentLoadMs: number[];
  size: number;
  bytes: number;
  engines: Record<string, number>;
}

export type MemoryReading = NodeJS.MemoryUsage & { threads: number };

export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly adminKey: string,
    private readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    child.on('message', (m: { id?: number; ok?: boolean; value?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`bench server: ${m.error}`));
    });
    child.once('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`bench server exited (${code})`));
      this.pending.clear();
    });
  }

  /**
   * Starts a server with the bench's defaults (loopback, port 0, silent logs, no training workers), the
   * TENANTML_* variables of the bench's environment over them, `env` over those. `dataDir`: serve this data folder (the caller's: it stays after close) instead of a new
   * one; `nodeArgs` go to node itself (e.g. --max-semi-space-size=2).
   */
  static async start(
    env: Record<string, string> = {},
    opts: { dataDir?: string; nodeArgs?: string[] } = {},
  ): Promise<ServerProcess> {
    ensureBuilt();
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'tenantml-bench-serve-')));
    const nodeArgs = opts.nodeArgs ?? [];
    const child = fork(join(here, 'server-child.mjs'), [], {
      execArgv: nodeArgs,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: serverEnv(dataDir, env),
    });
    const ready = await new Promise<{ port: number; adminKey: string }>((resolve, reject) => {
      child.once('message', (m: { ready?: boolean; port: number; adminKey: string }) => resolve(m));
      child.once('exit', (code) => reject(new Error(`bench server exited before it was ready (${code})`)));
    });
    return new ServerProcess(child, ready.port, ready.adminKey, dataDir, opts.dataDir === undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask<T>(op: string, args?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error('bench server has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  /** Creates a premium tenant with these quota overrides; answers a predict key of it. */
  tenant(id: string, quotaOverrides: Record<string, number> = {}): Promise<string> {
    return this.ask('tenant', { id, quotaOverrides });
  }

  /** Tenants `<prefix>0…<prefix><n-1>` (premium, these overrides), each with `trained` live as `model`. */
  setupTenants(
    prefix: string,
    n: number,
    quotaOverrides: Record<string, number>,
    model: string,
    trained: TrainedModel,
  ): Promise<void> {
    const { onnx, featurizer, modelJson } = trained;
    return this.ask('setupTenants', {
      prefix,
      n,
      quotaOverrides,
      model,
      trained: { onnx, featurizer, modelJson },
    });
  }

  /** Writes a trained model into the tenant's namespace and registers it (live: its first version). */
  register(tenantId: string, model: string, trained: TrainedModel): Promise<void> {
    return this.ask('register', {
      tenantId,
      model,
      onnx: trained.onnx,
      featurizer: trained.featurizer,
      modelJson: trained.modelJson,
    });
  }

  /** A request through the app (Fastify inject), no socket. */
  inject(req: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }): Promise<{ status: number; body: string }> {
    return this.ask('inject', req);
  }

  metricSum(name: string): Promise<number> {
    return this.ask('metricSum', { name });
  }

  cache(): Promise<CacheReading> {
    return this.ask('cache');
  }

  meteredRows(tenantId: string): Promise<number> {
    return this.ask('meteredRows', { tenantId });
  }

  memory(): Promise<MemoryReading> {
    return this.ask('memory');
  }

  profileStart(intervalUs = 100): Promise<void> {
    return this.ask('profileStart', { intervalUs });
  }

  /** Writes the CPU profile taken since profileStart to `path` (.cpuprofile, for DevTools). */
  profileStop(path: string): Promise<string> {
    return this.ask('profileStop', { path });
  }

  /** Samples allocations (collected ones included) until allocationStop. */
  allocationStart(intervalBytes = 32_768): Promise<void> {
    return this.ask('allocationStart', { intervalBytes });
  }

  /** Writes the allocation profile taken since allocationStart to `path` (.heapprofile, for DevTools). */
  allocationStop(path: string): Promise<string> {
    return this.ask('allocationStop', { path });
  }

  heapSnapshot(path: string): Promise<string> {
    return this.ask('heapSnapshot', { path });
  }

  /** The process's resident set in MiB (VmRSS of /proc/<pid>/status). */
  rssMb(): number {
    return Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1]) / 1024;
  }

  threads(): number {
    return Number(/Threads:\s*(\d+)/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1]);
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      await this.ask('close').catch(() => undefined);
      await gone;
    }
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** An anchor server of serve (a) in a process of its own (anchor-child.mjs): `hello` or `echo`. */
export async function startAnchor(kind: 'hello' | 'echo'): Promise<{ port: number; close(): Promise<void> }> {
  const child = fork(join(here, 'anchor-child.mjs'), [kind], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`anchor ${kind} exited before listening (${code})`)));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('close');
      }),
  };
}

/**
 * A serving pool as `npm start` runs it with TENANTML_SERVE_PROCESSES=`processes` (the built CLI's
 * `start`, docs/serving-pool.md) on `dataDir` (prepared by a ServerProcess before). Its metrics are read
 * over HTTP (the pool's sum); close sends SIGTERM to the primary, which stops its API processes.
 */
export async function startPool(
  processes: number,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ port: number; metricSum(name: string): Promise<number>; close(): Promise<void> }> {
  ensureBuilt();
  const child = spawn(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'start'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: serverEnv(dataDir, { ...env, TENANTML_SERVE_PROCESSES: String(processes) }),
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving on http:\/\/[^\s]+:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`pool exited before serving (${code}): ${stderr}`)));
  });
  const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  return {
    port,
    async metricSum(name) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      if (!r.ok) throw new Error(`pool /metrics: ${r.status}`);
      let sum = 0;
      for (const line of (await r.text()).split('\n'))
        if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
