// Checking a webhook delivery on the receiving side, with WebCrypto only, so that it runs in Node 20+,
// browsers, Deno and edge workers alike. It reads the header the platform's dispatcher writes
// (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`) and refuses old timestamps (replays).

/** The headers every delivery carries (HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = {
  signature: 'Tenantml-Signature',
  event: 'Tenantml-Event',
  delivery: 'Tenantml-Delivery',
} as const;

export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export interface VerifyWebhookOptions {
  /** How far the signed time may be from `now`, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** Default: the current time. */
  now?: Date;
}

// Longer headers are refused unread: a receiver should not spend work on an oversized value.
const MAX_HEADER_LENGTH = 4096;

const utf8 = new TextEncoder();

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === 'string') return utf8.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

/** `t` and the v1 signatures of a header, or null when it has no usable `t` or no well-formed v1. */
export function parseSignatureHeader(header: string): { t: number; v1: string[] } | null {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) v1.push(value);
  }
  return t === undefined || v1.length === 0 ? null : { t, v1 };
}

/**
 * True when `header` (the `Tenantml-Signature` value) carries a v1 signature of `body` by `secret`, made
 * within `toleranceSeconds` of `now`. `body` must be the raw bytes (or text) received, before any JSON
 * parsing; `secret` is the text shown when the webhook was created. Several v1 entries are accepted, any
 * one matching, so a delivery signed during a secret rotation still verifies.
 */
export async function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array | ArrayBuffer,
  opts: VerifyWebhookOptions = {},
): Promise<boolean> {
  const { toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS, now = new Date() } = opts;
  if (typeof secret !== 'string' || secret === '') return false;
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return false;
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  if (!(Math.abs(now.getTime() / 1000 - parsed.t) <= toleranceSeconds)) return false;

  const key = await crypto.subtle.importKey(
    'raw',
    utf8.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const prefix = utf8.encode(`${parsed.t}.`);
  const bytes = toBytes(body);
  const signed = new Uint8Array(prefix.length + bytes.length);
  signed.set(prefix);
  signed.set(bytes, prefix.length);
  // subtle.verify compares in constant time, so a guess learns nothing from how long a refusal takes.
  for (const candidate of parsed.v1) {
    if (await crypto.subtle.verify('HMAC', key, hexBytes(candidate), signed)) return true;
  }
  return false;
}
