// A real platform for HTTP tests: the real server (Fastify inject, no socket) over a real store (SQLite
// or PostgreSQL from test/helpers/stores.ts) and a real artifact folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { WorkerOptions } from '../../src/jobs/supervisor.ts';
import { createPlatform, type Platform } from '../../src/platform.ts';
import type { NativeHooks } from '../../src/runtime/loaded-model.ts';
import { createTestStore, type StoreKind, type TestStore } from './stores.ts';

export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  key?: string;
  tenant?: string;
  json?: unknown;
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestPlatform {
  platform: Platform;
  ts: TestStore;
  dataDir: string;
  adminKey: string;
  call(c: Call): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  /** Creates a tenant through the API and returns an admin key and a predict key for it. */
  tenant(
    id: string,
    extra?: Record<string, unknown>,
  ): Promise<{ id: string; admin: string; predict: string }>;
  upload(key: string, name: string, csv: string): Promise<{ status: number; body: any }>;
  cleanup(): Promise<void>;
}

export async function createTestPlatform(
  kind: StoreKind,
  opts: {
    env?: Record<string, string>;
    clock?: Clock;
    logStream?: { write(line: string): void };
    /** Options of the platform's own workers (with TENANTML_WORKER_SLOTS > 0), e.g. test hooks. */
    workers?: WorkerOptions;
    /** Stand-ins for the native inference engine's compiler and parity probe. */
    inferenceNative?: NativeHooks;
  } = {},
): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-platform-'));
  const ts = await createTestStore(kind);
  const config = loadConfig(
    { TENANTML_DATA_DIR: dataDir, TENANTML_LOG_LEVEL: 'silent', ...opts.env },
    dataDir,
  );
  const platform = await createPlatform(config, {
    store: ts.store,
    clock: opts.clock,
    logStream: opts.logStream,
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.inferenceNative ? { inferenceNative: opts.inferenceNative } : {}),
  });
  const adminKey = platform.adminKey;

  const call: TestPlatform['call'] = async (c) => {
    const headers: Record<string, string> = { ...(c.headers ?? {}) };
    if (c.key !== undefined) headers.authorization = `Bearer ${c.key}`;
    if (c.tenant !== undefined) headers['x-tenant-id'] = c.tenant;
    let payload: string | Buffer | undefined = c.body;
    if (c.json !== undefined) {
      payload = JSON.stringify(c.json);
      headers['content-type'] = 'application/json';
    }
    if (c.contentType !== undefined) headers['content-type'] = c.contentType;
    const res = await platform.app.inject({ method: c.method, url: c.url, headers, payload });
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : null;
    } catch {
      // not JSON: leave the text
    }
    return { status: res.statusCode, body, headers: res.headers, text: res.body };
  };

  return {
    platform,
    ts,
    dataDir,
    adminKey,
    call,
    async tenant(id, extra = {}) {
      const t = await call({
        method: 'POST',
        url: '/v1/tenants',
        key: adminKey,
        json: { id, name: `Tenant ${id}`, ...extra },
      });
      if (t.status !== 201) throw new Error(`tenant ${id}: ${t.status} ${t.text}`);
      const a = await call({
        method: 'POST',
        url: `/v1/tenants/${id}/keys`,
        key: adminKey,
        json: { role: 'admin' },
      });
      const p = await call({
        method: 'POST',
        url: `/v1/tenants/${id}/keys`,
        key: adminKey,
        json: { role: 'predict' },
      });
      return { id, admin: a.body.key, predict: p.body.key };
    },
    upload: (key, name, csv) =>
      call({ method: 'POST', url: `/v1/datasets/${name}`, key, body: csv, contentType: 'text/csv' }),
    async cleanup() {
      await platform.close();
      await ts.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
