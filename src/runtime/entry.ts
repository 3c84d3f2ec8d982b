// Starting one of our modules outside the main thread — a child process or a worker thread: from source
// it needs tsx's loader, from the build (dist/, what `npm start` runs) it runs as it is. The module is
// named with its .ts name beside the caller (core/module-url.ts gives it the caller's own extension).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { runsFromSource } from '../core/module-url.ts';

/** node's flags for running the module at `entry` in a child process: tsx's loader for a .ts entry, else none. */
export function childLoaderArgs(entry: URL): string[] {
  if (!runsFromSource(entry.href)) return [];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}

/**
 * A worker thread's entry (an eval'd script): a built (.js) entry is imported as it is; a .ts entry (run
 * from source) needs tsx's loader registered inside the worker first. (On Node 20, `execArgv: ['--import', tsx]` does not reach a
 * worker's module loader: the .ts entry fails with ERR_UNKNOWN_FILE_EXTENSION, so the loader is registered
 * from a small eval'd script — which costs the thread ~30 MB, hence the build for serving.)
 */
export function workerBootstrap(entryUrl: URL): string {
  const href = entryUrl.href;
  const entry = JSON.stringify(href);
  if (!runsFromSource(href)) return `import(${entry});`;
  const api = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${entry}); });`;
}
