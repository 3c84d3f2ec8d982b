#!/usr/bin/env node
// The `tenantml` command. It runs the build in dist/ (scripts/build.mjs; `npm start` and `npm run build`
// make it) when that build is at least as new as every file in src/, and the TypeScript source through
// tsx otherwise — so the command works from a fresh clone with no build, and never runs a stale build.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function freshBuild() {
  const stamp = join(root, 'dist', 'build.json');
  if (!existsSync(stamp)) return false;
  try {
    const { newestSourceMtimeMs } = JSON.parse(readFileSync(stamp, 'utf8'));
    return newestSource(join(root, 'src')) <= newestSourceMtimeMs;
  } catch {
    return false;
  }
}

if (freshBuild()) {
  await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
