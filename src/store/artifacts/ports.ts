// The artifact store's port: opaque blobs under a tenant's prefix. Adapters (filesystem, object store)
// only move bytes; encryption with the tenant's data key happens once, above them (envelope.ts).
import type { Readable } from 'node:stream';

export interface BlobStore {
  readonly kind: 'fs' | 'object';
  /** Writes atomically: readers see the old blob or the whole new one, never a part. Returns bytes written. */
  put(path: string, body: Readable | Uint8Array): Promise<number>;
  /** A stream of the blob; rejects with code ENOENT when absent. */
  get(path: string): Promise<Readable>;
  /**
   * The whole blob at once, for small blobs read on a latency-sensitive path (a model's artifacts when it
   * loads); rejects with code ENOENT when absent. Adapters without a cheaper way leave it out (`get` is used).
   */
  read?(path: string): Promise<Buffer>;
  exists(path: string): Promise<boolean>;
  size(path: string): Promise<number>;
  delete(path: string): Promise<void>;
  /** Deletes every blob whose path starts with the prefix (a tenant's whole folder). */
  deletePrefix(prefix: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
}

/** Where a tenant's artifacts live: always under `tenants/<tenantId>/`. */
export function tenantPath(tenantId: string, key: string): string {
  return `tenants/${tenantId}/${key}`;
}
