// The tenants' data keys: created and wrapped at tenant creation, unwrapped on use (kept in memory
// only), forgotten when the tenant is deleted — after which the wrapped key no longer exists anywhere.
import { AppError } from '../core/errors.ts';
import { newDataKey, unwrapKey, wrapKey } from '../store/artifacts/envelope.ts';
import type { TenantRepo } from '../store/ports.ts';

/**
 * A copy of `b` in memory of its own. Small buffers share Node's 8 KiB allocation pool, so a 32-byte key
 * kept for long would keep the pool slab it was cut from alive: ~8 KiB per cached tenant (10.6 MB of
 * 2,000 tenants in the serve bench's heap snapshot). The pooled original is zeroed.
 */
function unpooled(b: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  b.fill(0);
  return own;
}

export class KeyRing {
  private readonly cache = new Map<string, Buffer>();
  private static readonly MAX_CACHED = 10_000;

  constructor(
    private readonly masterKey: Buffer,
    private readonly tenants: Pick<TenantRepo, 'wrappedDataKey'>,
  ) {}

  /** A fresh data key for a new tenant, wrapped for storage. */
  newWrappedKey(tenantId: string): Buffer {
    return wrapKey(this.masterKey, tenantId, newDataKey());
  }

  async dataKey(tenantId: string): Promise<Buffer> {
    const hit = this.cache.get(tenantId);
    if (hit) return hit;
    const wrapped = await this.tenants.wrappedDataKey(tenantId);
    if (!wrapped) throw new AppError('not_found', 'tenant has no data key (deleted?)');
    const key = unpooled(unwrapKey(this.masterKey, tenantId, wrapped));
    if (this.cache.size >= KeyRing.MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(tenantId, key);
    return key;
  }

  forget(tenantId: string): void {
    const key = this.cache.get(tenantId);
    key?.fill(0);
    this.cache.delete(tenantId);
  }
}
