import type { KeyCreated, KeyInfo } from '../../api/schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type KeyRole = KeyCreated['role'];

/** A tenant's API keys; operator key only. */
export class KeysApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Creates a key; the secret `key` in the answer is shown this once and never again. */
  create(tenantId: string, role: KeyRole, opts: CallOptions = {}): Promise<KeyCreated> {
    return this.#t.request(ROUTES.createKey, { ...opts, params: { id: tenantId }, json: { role } });
  }

  async list(tenantId: string, opts: CallOptions = {}): Promise<KeyInfo[]> {
    const res = await this.#t.request<{ keys: KeyInfo[] }>(ROUTES.listKeys, {
      ...opts,
      params: { id: tenantId },
    });
    return res.keys;
  }

  async revoke(tenantId: string, keyId: string, opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.revokeKey, { ...opts, params: { id: tenantId, keyId }, response: 'none' });
  }
}
