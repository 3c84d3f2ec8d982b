// Webhook signatures: what the dispatcher puts in `Tenantml-Signature`, and what a receiver runs to check
// it. The timestamp is signed with the body so that a captured delivery cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tenantml-Signature';
export const EVENT_HEADER = 'Tenantml-Event';
export const DELIVERY_HEADER = 'Tenantml-Delivery';

/** Hex HMAC-SHA256 of `<t>.<body>` keyed with the secret exactly as it was shown (its UTF-8 bytes). */
export function computeSignature(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/** The header value for a body sent at `t` (unix seconds): `t=<t>,v1=<hex>`. */
export function signatureHeader(secret: string, t: number, body: string | Uint8Array): string {
  return `t=${t},v1=${computeSignature(secret, t, body)}`;
}

/**
 * True when `header` carries a v1 signature of `body` by `secret`, made within `toleranceSeconds` of
 * `now`. Several v1 entries are accepted (any one may match), so a sender can sign with two secrets while
 * one is being rotated. `body` must be the raw bytes received, before any JSON parsing.
 */
export function verifySignature(
  secret: string,
  header: string | undefined | null,
  body: string | Uint8Array,
  toleranceSeconds: number,
  now: Date,
): boolean {
  if (typeof header !== 'string' || header.length > 4096) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(computeSignature(secret, t, body), 'hex');
  return candidates.some((c) => timingSafeEqual(expected, Buffer.from(c, 'hex')));
}
