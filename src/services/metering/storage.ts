// Storage in use per tenant, as stored (encrypted bytes, envelope included), and the hourly sampler that
// turns it into `storage_byte_hours` usage (docs/metering.md). Datasets are summed by the store (each
// version records its stored size); models and prediction logs are summed from the blob store's listing
// under the tenant's prefix (models/…, predictions/…), so imports, profiles and fitted parameters count.
import type { Clock } from '../../core/clock.ts';
import type { UsageEvent } from '../../core/metering.ts';
import { SHARED_NAMESPACE, type TenantScope } from '../../core/scope.ts';
import { type BlobStore, tenantPath } from '../../store/artifacts/ports.ts';
import type { Store } from '../../store/ports.ts';

export const STORAGE_CATEGORIES = ['datasets', 'models', 'logs'] as const;
export type StorageCategory = (typeof STORAGE_CATEGORIES)[number];

/** Bytes a tenant holds, by category and in total. */
export interface StorageBytes {
  datasets: number;
  models: number;
  logs: number;
  total: number;
}

export interface StorageDeps {
  store: Pick<Store, 'datasets'>;
  blobs: Pick<BlobStore, 'list' | 'size'>;
}

/** Sum of the sizes of every blob under `prefix` (a blob deleted meanwhile counts 0). */
async function prefixBytes(blobs: StorageDeps['blobs'], prefix: string): Promise<number> {
  let sum = 0;
  for (const path of await blobs.list(prefix)) {
    try {
      sum += await blobs.size(path);
    } catch {
      // removed between the listing and the stat
    }
  }
  return sum;
}

/** What `scope`'s tenant stores now: datasets (from the store), models and prediction logs (blob listing). */
export async function storageBytes(deps: StorageDeps, scope: TenantScope): Promise<StorageBytes> {
  const [datasets, models, logs] = await Promise.all([
    deps.store.datasets.storedBytes(scope),
    prefixBytes(deps.blobs, tenantPath(scope.tenantId, 'models/')),
    prefixBytes(deps.blobs, tenantPath(scope.tenantId, 'predictions/')),
  ]);
  return { datasets, models, logs, total: datasets + models + logs };
}

/** The id of a storage sample: one per tenant, category and hour, so a second sample in an hour counts once. */
export function storageEventId(tenantId: string, category: StorageCategory, hourStart: string): string {
  return `storage:${tenantId}:${category}:${hourStart}`;
}

const HOUR_MS = 3_600_000;

export interface StorageSamplerDeps extends StorageDeps {
  store: Pick<Store, 'datasets' | 'tenants'>;
  clock: Clock;
  /** A system scope for a tenant (the composition root mints it). */
  scopeOf: (tenantId: string) => TenantScope;
  /** Where the events go (the meter's record, or the usage repository). */
  record: (events: UsageEvent[]) => Promise<unknown>;
  warn?: (obj: Record<string, unknown>, msg: string) => void;
}

/**
 * Samples every tenant's storage (the shared namespace included) and records bytes × hours held since the
 * previous sample of this process, capped at one hour per event (the first sample after a start counts a
 * full hour, the hourly sampler's period; a sampler that missed hours counts one). At most one sample per
 * clock hour: its ids name the hour, so a restarted process sampling again in that hour adds nothing.
 */
export class StorageSampler {
  private last: number | null = null;
  private lastHour: number | null = null;

  constructor(private readonly deps: StorageSamplerDeps) {}

  /** One sample of every tenant; returns the events recorded. A tenant that fails is skipped (logged). */
  async sample(): Promise<UsageEvent[]> {
    const nowMs = this.deps.clock.now().getTime();
    const hourMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
    // One sample per hour: a second one in the same hour would carry the same ids and count nothing.
    if (hourMs === this.lastHour) return [];
    const hours = this.last === null ? 1 : Math.min(1, Math.max(0, (nowMs - this.last) / HOUR_MS));
    this.last = nowMs;
    this.lastHour = hourMs;
    if (hours <= 0) return [];
    const hourStart = new Date(hourMs).toISOString();
    const at = new Date(nowMs).toISOString();
    const events: UsageEvent[] = [];
    const tenantIds = [SHARED_NAMESPACE, ...(await this.deps.store.tenants.list()).map((t) => t.id)];
    for (const tenantId of tenantIds) {
      try {
        const bytes = await storageBytes(this.deps, this.deps.scopeOf(tenantId));
        for (const category of STORAGE_CATEGORIES) {
          const q = bytes[category] * hours;
          if (!(q > 0) || !Number.isFinite(q)) continue;
          events.push({
            id: storageEventId(tenantId, category, hourStart),
            tenantId,
            kind: 'storage_byte_hours',
            quantity: q,
            at,
            subject: category,
            origin: 'own',
          });
        }
      } catch (err) {
        this.deps.warn?.({ tenantId, err: String(err) }, 'metering: storage sample skipped a tenant');
      }
    }
    if (events.length > 0) await this.deps.record(events);
    return events;
  }
}
