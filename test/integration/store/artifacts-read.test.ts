// The filesystem blob store's whole-blob read (used when a model loads: one call instead of a stream's
// stat/open/chunks/close, each of which waits a turn of a busy event loop) and TenantArtifacts.get on top
// of it: the bytes put wrote, decrypted with the tenant's key; absent blobs and paths leaving the root are
// refused; a store without a whole-blob read is read through its stream.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { TenantArtifacts } from '../../../src/services/artifacts.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { FsBlobStore, SYNC_READ_MAX_BYTES } from '../../../src/store/artifacts/fs.ts';
import type { BlobStore } from '../../../src/store/artifacts/ports.ts';

const root = mkdtempSync(join(tmpdir(), 'tenantml-artifacts-read-'));
after(() => rmSync(root, { recursive: true, force: true }));

const wrapped = new Map<string, Buffer>();
const keyring = new KeyRing(Buffer.alloc(32, 5), {
  wrappedDataKey: async (id: string) => wrapped.get(id) ?? null,
});
const tenant = (id: string) => {
  wrapped.set(id, keyring.newWrappedKey(id));
  return mintTenantScope(id, SYSTEM);
};

test('FsBlobStore.read: the whole blob, ENOENT when absent, no path outside the root', async () => {
  const blobs = new FsBlobStore(root);
  const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
  await blobs.put('a/b.bin', bytes);
  assert.deepEqual(await blobs.read('a/b.bin'), bytes);
  await assert.rejects(blobs.read('a/missing.bin'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  // Above SYNC_READ_MAX_BYTES the read is asynchronous; the bytes are the same.
  const big = Buffer.alloc(SYNC_READ_MAX_BYTES + 1, 9);
  await blobs.put('a/big.bin', big);
  assert.ok((await blobs.read('a/big.bin')).equals(big));
  await assert.rejects(blobs.read('../outside'), /invalid blob path/);
});

test('get decrypts what put wrote through read; another tenant cannot read it; without read it streams', async () => {
  const blobs = new FsBlobStore(root);
  const artifacts = new TenantArtifacts(blobs, keyring);
  const a = tenant('ta');
  const b = tenant('tb');
  const model = Buffer.from(JSON.stringify({ trees: Array.from({ length: 500 }, (_, i) => i) }));
  await artifacts.put(a, 'models/m/v1/model.json', model);
  assert.deepEqual(await artifacts.get(a, 'models/m/v1/model.json'), model);
  // tb's scope names tb's folder: the file is not there.
  await assert.rejects(
    artifacts.get(b, 'models/m/v1/model.json'),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
  );

  let streamed = 0;
  const noRead: BlobStore = {
    kind: 'object',
    put: (p, body) => blobs.put(p, body),
    get: (p) => {
      streamed++;
      return blobs.get(p);
    },
    exists: (p) => blobs.exists(p),
    size: (p) => blobs.size(p),
    delete: (p) => blobs.delete(p),
    deletePrefix: (p) => blobs.deletePrefix(p),
    list: (p) => blobs.list(p),
  };
  assert.deepEqual(await new TenantArtifacts(noRead, keyring).get(a, 'models/m/v1/model.json'), model);
  assert.equal(streamed, 1, 'read through the stream');
});
