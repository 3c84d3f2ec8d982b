// The shared control block between the histogram pool and its worker threads: one Int32Array over a
// SharedArrayBuffer. A build is published by one atomic store of WORD and its blocks of features are
// claimed by compare-and-swap on WORD, so a late worker can never run a block of a finished build.
import type { MessagePort } from 'node:worker_threads';

/** WORD = seq (10 bits) << 22 | blocks (11 bits) << 11 | next unclaimed block (11 bits). */
export const WORD = 0;
/** Blocks completed in the current build (the main thread waits for it to reach `blocks`). */
export const DONE = 1;
/** 0 while healthy; STATUS_FAILED or STATUS_EXITED once a worker is unusable. */
export const STATUS = 2;
export const STOP = 3;
/** Increments once per build: a worker gathers gradients on its first block of a new build. */
export const BUILD_ID = 4;
/** 1: each block zeroes its own features' slots; 0: the main thread zeroed the whole histogram. */
export const ZERO_OWN = 5;
export const START = 6;
export const END = 7;
export const N_ROWS = 8;
export const N_FEATURES = 9;
/** Worker blocks completed since start: a watchdog sees that a slow worker is still alive. */
export const HEARTBEAT = 10;
/** Array references: id, byte offset, length for each of the arrays below. */
export const ARRAYS = 16;
export const A_HIST = 0;
export const A_ROWS = 1;
export const A_G = 2;
export const A_H = 3;
export const A_BINS = 4;
export const A_OFFSETS = 5;
export const A_FEATURES = 6;
export const N_ARRAYS = 7;
/** Block b covers features[BOUNDS + b .. BOUNDS + b + 1). */
export const BOUNDS = ARRAYS + 3 * N_ARRAYS;
export const MAX_BLOCKS = 2047;
export const CONTROL_INTS = BOUNDS + MAX_BLOCKS + 1;

export const STATUS_FAILED = 1;
export const STATUS_EXITED = 2;

export const wordSeq = (w: number): number => w >>> 22;
export const wordBlocks = (w: number): number => (w >>> 11) & 2047;
export const wordNext = (w: number): number => w & 2047;
export const makeWord = (seq: number, blocks: number, next: number): number =>
  ((seq & 1023) << 22) | (blocks << 11) | next | 0;

/** Messages on a worker's port: buffers it may be asked to read or write, and forgetting them. */
export type PoolMessage = { type: 'share'; id: number; buffer: SharedArrayBuffer } | { type: 'release' };

export interface WorkerData {
  control: SharedArrayBuffer;
  port: MessagePort;
  index: number;
}
