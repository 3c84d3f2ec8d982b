// Identifiers and names: what users may choose, and what the platform generates.
import type { Random } from './clock.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/** A random id with a type prefix, e.g. `tk_8f3k2m9q4v1x`; 60 bits of randomness. */
export function newId(prefix: string, random: Random, length = 12): string {
  const bytes = random.bytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] & 31];
  return `${prefix}_${out}`;
}

/** Tenant ids: lower-case letters, digits and dashes, 1–63 characters, starting with a letter or digit. */
export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const TENANT_ID_RE = new RegExp(TENANT_ID_PATTERN);
export const isTenantId = (s: string): boolean => TENANT_ID_RE.test(s);

/**
 * Resource names (datasets, models): letters, digits, `.`, `_`, `-`, 1–128 characters, starting with a
 * letter or digit, never `..`. They become path segments, so nothing else is allowed.
 */
export const RESOURCE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const NAME_RE = new RegExp(RESOURCE_NAME_PATTERN);

/** Why a resource name is refused, or null when it is fine. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 128) return `must be at most 128 characters (got ${name.length})`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters';
  if (name.includes('/') || name.includes('\\')) return 'must not contain slashes';
  if (name.includes('..')) return "must not contain '..'";
  if (!NAME_RE.test(name))
    return 'may hold only letters, digits, ".", "_" and "-", starting with a letter or digit';
  return null;
}
