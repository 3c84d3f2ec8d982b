// Start-time fair queuing across tenants, pure (no clock, no I/O). Each waiting request gets a virtual start
// tag max(V, tenant's last finish tag) and the tenant's finish tag moves on by cost / weight; the request
// with the smallest start tag is served next. A tenant with a hundred queued requests therefore cannot
// make a newcomer wait behind all of them, and over a busy period tenants get slots in proportion to weight.

export interface QueueEntry<T> {
  readonly tenantId: string;
  readonly cost: number;
  readonly value: T;
  /** Virtual start tag. */
  readonly start: number;
  /** Arrival order: the tie-break between equal tags, so the order is deterministic. */
  readonly seq: number;
}

interface TenantQueue<T> {
  entries: QueueEntry<T>[];
  /** Virtual finish tag of the tenant's last charged request. */
  finish: number;
}

/** Tenants whose finish tag is behind virtual time carry no state worth keeping; swept every this many serves. */
const SWEEP_EVERY = 1024;

export class FairQueue<T> {
  private readonly tenants = new Map<string, TenantQueue<T>>();
  /** Virtual time: the start tag of the request most recently served. */
  private virtualTime = 0;
  private seq = 0;
  private count = 0;
  private served = 0;

  get size(): number {
    return this.count;
  }

  sizeOf(tenantId: string): number {
    return this.tenants.get(tenantId)?.entries.length ?? 0;
  }

  /**
   * Records a request that was served at once, without waiting: it still advances the tenant's finish tag,
   * so a tenant that just had the server to itself does not jump ahead when the queue forms.
   */
  charge(tenantId: string, cost: number, weight: number): void {
    this.virtualTime = this.tag(this.tenant(tenantId), cost, weight);
    this.served++;
    if (this.served % SWEEP_EVERY === 0) this.sweep();
  }

  push(tenantId: string, cost: number, weight: number, value: T): QueueEntry<T> {
    const t = this.tenant(tenantId);
    const start = this.tag(t, cost, weight);
    const entry: QueueEntry<T> = { tenantId, cost, value, start, seq: this.seq++ };
    t.entries.push(entry);
    this.count++;
    return entry;
  }

  /** The waiting request with the smallest start tag (ties: earliest arrival), removed from the queue. */
  pop(): QueueEntry<T> | undefined {
    let best: QueueEntry<T> | undefined;
    for (const t of this.tenants.values()) {
      const head = t.entries[0];
      if (head && (!best || head.start < best.start || (head.start === best.start && head.seq < best.seq))) {
        best = head;
      }
    }
    if (!best) return undefined;
    this.tenants.get(best.tenantId)!.entries.shift();
    this.count--;
    this.virtualTime = best.start;
    this.served++;
    if (this.served % SWEEP_EVERY === 0) this.sweep();
    return best;
  }

  /** Takes a waiting request out (its client gave up); false when it already left the queue. */
  remove(entry: QueueEntry<T>): boolean {
    const t = this.tenants.get(entry.tenantId);
    const i = t ? t.entries.indexOf(entry) : -1;
    if (!t || i < 0) return false;
    t.entries.splice(i, 1);
    this.count--;
    // The newest request gives its virtual time back; one in the middle does not, as later tags depend on it.
    if (i === t.entries.length) t.finish = entry.start;
    return true;
  }

  /** The tenant with the most waiting requests (ties: the one whose newest request came last). */
  longest(): { tenantId: string; count: number } | undefined {
    let best: { tenantId: string; count: number; seq: number } | undefined;
    for (const [tenantId, t] of this.tenants) {
      const n = t.entries.length;
      if (n === 0) continue;
      const seq = t.entries[n - 1]!.seq;
      if (!best || n > best.count || (n === best.count && seq > best.seq)) best = { tenantId, count: n, seq };
    }
    return best && { tenantId: best.tenantId, count: best.count };
  }

  /** The tenant's newest waiting request, removed (to make room for another tenant's). */
  popNewest(tenantId: string): QueueEntry<T> | undefined {
    const t = this.tenants.get(tenantId);
    const entry = t?.entries[t.entries.length - 1];
    if (entry) this.remove(entry);
    return entry;
  }

  /** Every waiting request, removed (shutdown). */
  drain(): QueueEntry<T>[] {
    const all = [...this.tenants.values()].flatMap((t) => t.entries).sort((a, b) => a.seq - b.seq);
    this.tenants.clear();
    this.count = 0;
    return all;
  }

  /** A new request's start tag; the tenant's finish tag moves on by its cost / weight. */
  private tag(t: TenantQueue<T>, cost: number, weight: number): number {
    const start = Math.max(this.virtualTime, t.finish);
    t.finish = start + cost / positive(weight);
    return start;
  }

  private tenant(tenantId: string): TenantQueue<T> {
    let t = this.tenants.get(tenantId);
    if (!t) {
      t = { entries: [], finish: 0 };
      this.tenants.set(tenantId, t);
    }
    return t;
  }

  private sweep(): void {
    for (const [id, t] of this.tenants) {
      if (t.entries.length === 0 && t.finish <= this.virtualTime) this.tenants.delete(id);
    }
  }
}

// A misconfigured weight must not divide by zero or reverse the order.
const positive = (weight: number): number => (weight > 0 ? weight : 1);
