#!/usr/bin/env node
// Builds src/ into dist/ — what `npm start` runs: each .ts file transpiled on its own by esbuild into
// a .js file at the same place (no bundling: worker and child-process entries stay files of their own),
// relative `.ts` import specifiers rewritten to `.js`. Types are not checked here (`npm run typecheck`).
// Running the built JavaScript instead of the TypeScript through tsx spares the serving process tsx's
// loader (~60 MB RSS, ~30 MB more in each worker thread) and the runtime name-keeping calls tsx's
// transform adds to every function made at run time.
//
//   node scripts/build.mjs [outDir] [--quiet]     (default: dist/ beside src/)
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const outArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const out = outArg ? resolve(outArg) : join(root, 'dist');

/** Relative specifiers of static imports, re-exports and dynamic imports that name a .ts file. */
const TS_SPECIFIER = /(\b(?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"\n]+?)\.ts\2/g;

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const started = performance.now();
// Written into a fresh folder and swapped in whole, so a file deleted from src/ leaves nothing behind and
// a failed build leaves the previous one in place.
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
let newest = 0;
let files = 0;
for (const file of walk(src)) {
  // Every file counts for freshness (bin/tenantml.mjs compares it with the newest file in src/).
  newest = Math.max(newest, statSync(file).mtimeMs);
  if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
  const rel = relative(src, file);
  const { code } = transformSync(readFileSync(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcefile: rel,
  });
  const js = code.replace(TS_SPECIFIER, '$1$2$3.js$2');
  const left = /\b(?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"\n]+\.ts['"]/.exec(js);
  if (left) throw new Error(`build: ${rel} still imports a .ts file after the rewrite: ${left[0]}`);
  const target = join(tmp, rel.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, js);
  files++;
}
writeFileSync(
  join(tmp, 'build.json'),
  `${JSON.stringify({ builtAt: new Date().toISOString(), files, newestSourceMtimeMs: newest }, null, 2)}\n`,
);
rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
if (!process.argv.includes('--quiet'))
  console.error(
    `tenantml: built ${files} files into ${relative(process.cwd(), out) || '.'} in ${Math.round(performance.now() - started)} ms`,
  );
