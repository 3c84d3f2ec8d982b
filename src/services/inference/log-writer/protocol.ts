// Messages between the prediction log (main thread) and its writer thread (worker.ts).

/**
 * Lines of one (tenant, model, day): bytes [start, end) of the message's `bytes`, UTF-8, `count` JSON
 * records each ending in "\n".
 */
export interface LineBatch {
  tenantId: string;
  model: string;
  day: string;
  start: number;
  end: number;
  count: number;
}

export type ToWriter =
  /**
   * Records to hold until a flush. Their bytes travel in one buffer of their own that the post transfers
   * (no copy): the thread's heap never sees them as strings, so it allocates little and stays small.
   */
  | { type: 'records'; bytes: Uint8Array; batches: LineBatch[] }
  | {
      type: 'flush';
      id: number;
      /** The batch files' name prefix (the flush's time, from the platform's clock). */
      stamp: string;
      /**
       * The data key of each tenant whose records are to be written (null: none, deleted: drop them),
       * with the tenant's epoch when the key was read: a key older than the tenant's last `forget` is refused.
       */
      keys: [tenantId: string, key: Uint8Array | null, epoch: number][];
    }
  /**
   * The tenant is being deleted: drop what is held for it, write nothing more for it with a key read
   * before this (epoch below `epoch`), and answer `forgotten` once no file of it is being written.
   */
  | { type: 'forget'; id: number; tenantId: string; epoch: number };

export type FromWriter =
  /** Records of a tenant that left the thread: written to a file, or dropped (error names why). */
  | { type: 'progress'; tenantId: string; written: number; dropped: number; error?: string }
  | { type: 'flushed'; id: number }
  | { type: 'forgotten'; id: number };

export interface WriterData {
  /** The artifacts root an FsBlobStore is built on (config.artifactsDir). */
  root: string;
  maxRecordsPerFile: number;
}
