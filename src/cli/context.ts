// Where the CLI's client settings come from: flags, then environment, then the embedded quick start's
// operator key file, so `tenantml start` followed by `tenantml tenants list` works with no setup.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TenantmlClient } from '../sdk/client.ts';
import type { CliIo } from './output.ts';

export const DEFAULT_URL = 'http://localhost:8080';

export interface GlobalOptions {
  url?: string;
  key?: string;
  tenant?: string;
  json?: boolean;
}

export interface ClientSettings {
  baseUrl: string;
  apiKey: string | undefined;
  tenantId: string | undefined;
  /** Where the key came from, for hints when it is refused or missing. */
  keySource: string | undefined;
}

/** `<TENANTML_DATA_DIR or ./data>/admin.key`, as the server would place it. */
function adminKeyPath(env: CliIo['env'], cwd: string): string {
  const dir = env.TENANTML_DATA_DIR?.trim() || './data';
  return join(isAbsolute(dir) ? dir : resolve(cwd, dir), 'admin.key');
}

function readKeyFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function resolveSettings(opts: GlobalOptions, io: Pick<CliIo, 'env' | 'cwd'>): ClientSettings {
  const env = io.env;
  const baseUrl = opts.url?.trim() || env.TENANTML_URL?.trim() || DEFAULT_URL;
  const tenantId = opts.tenant?.trim() || env.TENANTML_TENANT?.trim() || undefined;
  const candidates: [string | undefined, string][] = [
    [opts.key, '--key'],
    [env.TENANTML_API_KEY, 'TENANTML_API_KEY'],
    [env.TENANTML_ADMIN_KEY, 'TENANTML_ADMIN_KEY'],
  ];
  for (const [value, source] of candidates) {
    if (value?.trim()) return { baseUrl, apiKey: value.trim(), tenantId, keySource: source };
  }
  const file = adminKeyPath(env, io.cwd);
  const fromFile = readKeyFile(file);
  return { baseUrl, apiKey: fromFile, tenantId, keySource: fromFile ? file : undefined };
}

export function clientFor(settings: ClientSettings, fetchImpl?: typeof fetch): TenantmlClient {
  return new TenantmlClient({
    baseUrl: settings.baseUrl,
    apiKey: settings.apiKey,
    tenantId: settings.tenantId,
    fetch: fetchImpl,
  });
}
