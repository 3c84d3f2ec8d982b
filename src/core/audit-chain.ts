// The audit log is a hash chain per tenant (plus one operator chain): each entry's hash covers the previous
// hash and the entry's own fields, so altering, removing or reordering a stored entry breaks the chain.
// Pure: hashing is computation, not I/O.
import { createHash } from 'node:crypto';
import type { AuditEntry } from './types.ts';

/** The prevHash of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields a hash covers: everything but the hashes themselves. */
export type HashedAuditFields = Omit<AuditEntry, 'prevHash' | 'hash'>;

/**
 * The canonical text of an entry: a JSON object with a fixed key order, so that the same entry always
 * hashes the same whatever order its fields were built in (or read back from a database).
 */
export function canonicalEntry(e: HashedAuditFields): string {
  return JSON.stringify({
    seq: e.seq,
    tenantId: e.tenantId,
    actorKeyId: e.actorKeyId,
    actorRole: e.actorRole,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    requestId: e.requestId,
    at: e.at,
  });
}

/** sha256 hex of the previous hash followed by the entry's canonical JSON. */
export function hashEntry(prevHash: string, e: HashedAuditFields): string {
  return createHash('sha256').update(prevHash).update(canonicalEntry(e)).digest('hex');
}

export type ChainVerdict = { ok: true; length: number } | { ok: false; brokenAt: number; reason: string };

/**
 * Checks one chain, given in order. `head` is the chain's recorded tip (seq and hash), when one is kept
 * apart from the entries: without it, removing the last entries cannot be told from a shorter chain.
 */
export function verifyChain(
  entries: readonly AuditEntry[],
  opts: { head?: { seq: number; hash: string } | null } = {},
): ChainVerdict {
  let prevHash = GENESIS_HASH;
  const tenantId = entries.length > 0 ? entries[0].tenantId : null;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const expectedSeq = i + 1;
    if (e.seq !== expectedSeq) {
      const reason =
        e.seq > expectedSeq
          ? `entry ${expectedSeq} is missing (found ${e.seq})`
          : `entry ${e.seq} is out of order (expected ${expectedSeq})`;
      return { ok: false, brokenAt: expectedSeq, reason };
    }
    if (e.tenantId !== tenantId)
      return { ok: false, brokenAt: e.seq, reason: 'entry belongs to another chain' };
    if (e.prevHash !== prevHash)
      return { ok: false, brokenAt: e.seq, reason: 'prevHash does not match the previous entry' };
    if (hashEntry(prevHash, e) !== e.hash)
      return { ok: false, brokenAt: e.seq, reason: 'hash does not match the entry fields' };
    prevHash = e.hash;
  }
  const head = opts.head;
  if (head !== undefined) {
    const tipSeq = entries.length;
    const headSeq = head?.seq ?? 0;
    if (headSeq !== tipSeq) {
      const brokenAt = Math.min(headSeq, tipSeq) + 1;
      return { ok: false, brokenAt, reason: `the chain head is at ${headSeq} but ${tipSeq} entries remain` };
    }
    if (head && head.hash !== prevHash)
      return { ok: false, brokenAt: tipSeq, reason: 'the last entry does not match the chain head' };
  }
  return { ok: true, length: entries.length };
}
