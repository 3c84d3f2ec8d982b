// Envelope encryption of artifacts: each tenant has its own 256-bit data key (DEK), wrapped by the
// operator's master key (KEK) and kept in the metadata store. Artifacts are AES-256-GCM encrypted with
// the DEK; the artifact's tenant and path are bound in as associated data, so a file copied into another
// tenant's folder, or renamed, fails authentication instead of decrypting.
//
// Layout of an encrypted blob: "TMLE" | version (1 byte) | IV (12 bytes) | ciphertext | tag (16 bytes).
import { createCipheriv, createDecipheriv, type DecipherGCM, randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from('TMLE');
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + IV_BYTES;

export const KEY_BYTES = 32;

function aad(tenantId: string, path: string): Buffer {
  return Buffer.from(`tenantml/${tenantId}/${path}`, 'utf8');
}

/** A transform that encrypts whatever flows through it. */
export function encryptStream(key: Buffer, tenantId: string, path: string): Transform {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(tenantId, path));
  let headerSent = false;
  const header = (): Buffer => {
    headerSent = true;
    return Buffer.concat([MAGIC, Buffer.from([VERSION]), iv]);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      const out = cipher.update(chunk);
      cb(null, headerSent ? out : Buffer.concat([header(), out]));
    },
    flush(cb: TransformCallback) {
      const tail = Buffer.concat([cipher.final(), cipher.getAuthTag()]);
      cb(null, headerSent ? tail : Buffer.concat([header(), tail]));
    },
  });
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * A transform that decrypts. Plaintext flows out before the tag is checked (streaming GCM); the stream
 * errors at its end if the tag does not match, so a consumer must treat a stream error as "nothing read".
 */
export function decryptStream(key: Buffer, tenantId: string, path: string): Transform {
  let header: Buffer | null = Buffer.alloc(0) as Buffer;
  let decipher: DecipherGCM | null = null;
  let held: Buffer = Buffer.alloc(0); // the last TAG_BYTES seen, which may be the tag
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      let data = chunk;
      if (header !== null) {
        header = Buffer.concat([header, data]);
        if (header.length < HEADER_BYTES) return cb();
        if (!header.subarray(0, 4).equals(MAGIC) || header[4] !== VERSION) {
          return cb(new DecryptionError('not an encrypted tenantml artifact'));
        }
        decipher = createDecipheriv('aes-256-gcm', key, header.subarray(5, HEADER_BYTES));
        decipher.setAAD(aad(tenantId, path));
        data = header.subarray(HEADER_BYTES);
        header = null;
      }
      const all = held.length ? Buffer.concat([held, data]) : data;
      if (all.length <= TAG_BYTES) {
        held = all;
        return cb();
      }
      held = Buffer.from(all.subarray(all.length - TAG_BYTES));
      cb(null, decipher!.update(all.subarray(0, all.length - TAG_BYTES)));
    },
    flush(cb: TransformCallback) {
      if (decipher === null || held.length !== TAG_BYTES) {
        return cb(new DecryptionError('encrypted artifact is truncated'));
      }
      try {
        decipher.setAuthTag(held);
        cb(null, decipher.final());
      } catch {
        cb(new DecryptionError('artifact failed authentication (altered, truncated or wrong key)'));
      }
    },
  });
}

export function encryptBuffer(key: Buffer, tenantId: string, path: string, plain: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(tenantId, path));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([MAGIC, Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
}

export function decryptBuffer(key: Buffer, tenantId: string, path: string, sealed: Buffer): Buffer {
  if (
    sealed.length < HEADER_BYTES + TAG_BYTES ||
    !sealed.subarray(0, 4).equals(MAGIC) ||
    sealed[4] !== VERSION
  ) {
    throw new DecryptionError('not an encrypted tenantml artifact');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(5, HEADER_BYTES));
  decipher.setAAD(aad(tenantId, path));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new DecryptionError('artifact failed authentication (altered, truncated or wrong key)');
  }
}

/** Wraps a tenant's data key with the master key (the tenant id is bound as associated data). */
export function wrapKey(masterKey: Buffer, tenantId: string, dataKey: Buffer): Buffer {
  return encryptBuffer(masterKey, tenantId, 'data-key', dataKey);
}

export function unwrapKey(masterKey: Buffer, tenantId: string, wrapped: Buffer): Buffer {
  const key = decryptBuffer(masterKey, tenantId, 'data-key', wrapped);
  if (key.length !== KEY_BYTES) throw new DecryptionError('wrapped data key has the wrong length');
  return key;
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Convenience for tests and small artifacts: a readable of one buffer. */
export const readableOf = (b: Uint8Array): Readable => Readable.from([Buffer.from(b)]);
