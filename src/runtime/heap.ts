// How far the serving process's V8 heap grows between major collections. V8 lets its old generation grow
// to up to four times what survived the last full collection, a factor it picks from its own GC speed; on
// a busy predict server that is a committed heap far above the live one (docs/inference.md, "Memory of the
// serving process"). A fixed, smaller factor bounds the committed heap relative to the live heap without an
// absolute limit that a growing live heap could hit (--max-old-space-size stops the process there).
import { setFlagsFromString } from 'node:v8';

let applied = 0;

/**
 * Sets V8's heap growing factor to 1 + percent/100 for the rest of the process (0: V8's own choice, left
 * alone). V8 reads the flag at each collection, so setting it after start takes effect.
 */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new Error(`heap growing percent: ${percent}`);
  if (percent === 0 || percent === applied) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  applied = percent;
}
