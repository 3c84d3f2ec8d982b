// A tenant's artifacts: every read and write goes through the tenant's prefix and its data key, so no
// code path can put one tenant's bytes where another's belong, or store them in the clear.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { TenantScope } from '../core/scope.ts';
import { decryptBuffer, decryptStream, encryptBuffer, encryptStream } from '../store/artifacts/envelope.ts';
import { type BlobStore, tenantPath } from '../store/artifacts/ports.ts';
import type { KeyRing } from './keyring.ts';

export class TenantArtifacts {
  constructor(
    private readonly blobs: BlobStore,
    private readonly keys: KeyRing,
  ) {}

  /** Encrypts and stores a stream; returns the stored byte count. Nothing is left behind on failure. */
  async putStream(scope: TenantScope, key: string, body: Readable): Promise<number> {
    const dek = await this.keys.dataKey(scope.tenantId);
    let failure: Error | undefined;
    // pipeline() owns both streams' errors, so a parse error before the blob store starts reading is
    // never an unhandled 'error' event; the first error is the one reported.
    const enc = pipeline(body, encryptStream(dek, scope.tenantId, key), (err) => {
      if (err) failure ??= err;
    });
    try {
      return await this.blobs.put(tenantPath(scope.tenantId, key), enc);
    } catch (err) {
      throw failure ?? err;
    }
  }

  async put(scope: TenantScope, key: string, data: Uint8Array): Promise<number> {
    const dek = await this.keys.dataKey(scope.tenantId);
    return this.blobs.put(tenantPath(scope.tenantId, key), encryptBuffer(dek, scope.tenantId, key, data));
  }

  /** A decrypting stream; it errors at its end if the artifact was altered. */
  async getStream(scope: TenantScope, key: string): Promise<Readable> {
    const dek = await this.keys.dataKey(scope.tenantId);
    const raw = await this.blobs.get(tenantPath(scope.tenantId, key));
    return pipeline(raw, decryptStream(dek, scope.tenantId, key), () => {});
  }

  /**
   * The whole artifact, decrypted: through the store's whole-blob read when it has one (one call, not a
   * stream's steps, each of which waits a turn of a busy event loop — a model's files when it loads),
   * else its stream, collected.
   */
  async get(scope: TenantScope, key: string): Promise<Buffer> {
    const dek = await this.keys.dataKey(scope.tenantId);
    const path = tenantPath(scope.tenantId, key);
    if (this.blobs.read) return decryptBuffer(dek, scope.tenantId, key, await this.blobs.read(path));
    const chunks: Buffer[] = [];
    const raw = await this.blobs.get(path);
    await pipelineAsync(raw, async (source: AsyncIterable<Buffer>) => {
      for await (const c of source) chunks.push(c);
    });
    return decryptBuffer(dek, scope.tenantId, key, Buffer.concat(chunks));
  }

  async delete(scope: TenantScope, key: string): Promise<void> {
    await this.blobs.delete(tenantPath(scope.tenantId, key));
  }

  /** Removes everything the tenant has stored (tenant deletion). */
  async deleteTenant(tenantId: string): Promise<void> {
    await this.blobs.deletePrefix(`tenants/${tenantId}/`);
  }
}
