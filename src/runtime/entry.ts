// Starting one of our modules as a child process: from source it needs tsx's loader (`--import`), from the
// build (dist/, what `npm start` runs) it runs as it is. The module is named with its .ts name beside the
// caller (core/module-url.ts gives it the caller's own extension).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { runsFromSource } from '../core/module-url.ts';

/** node's flags for running the module at `entry` in a child process: tsx's loader for a .ts entry, else none. */
export function childLoaderArgs(entry: URL): string[] {
  if (!runsFromSource(entry.href)) return [];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}
