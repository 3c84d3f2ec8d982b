// limitHeapGrowth refuses what is not a whole percent and leaves V8 alone at 0. Its effect on the serving
// process's memory is measured by `npm run bench -- serve --only b` (docs/inference.md).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { limitHeapGrowth } from '../../../src/runtime/heap.ts';

test('limitHeapGrowth: a whole percent is set, anything else is refused', () => {
  for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => limitHeapGrowth(bad), /heap growing percent/);
  // In a child process: 0 and a percent both run a collection-heavy loop to the end, V8 knowing the flag.
  for (const percent of [0, 30]) {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { limitHeapGrowth } from ${JSON.stringify(new URL('../../../src/runtime/heap.ts', import.meta.url).href)};
         limitHeapGrowth(${percent});
         let keep = [];
         for (let i = 0; i < 2e5; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 5e4) keep = []; }
         console.log('ok', keep.length);`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok \d+/);
    // V8 names a flag it does not know on stderr (and ignores it): a renamed flag would show here.
    assert.doesNotMatch(r.stderr, /unrecognized flag/);
  }
});
