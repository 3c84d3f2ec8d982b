// Where a module's sibling entry file is, run from source or built. From source (tsx) modules are .ts
// files; `npm start` runs the build of scripts/build.mjs, where the same modules are .js files in dist/.
// Worker-thread and child-process entries are named by URL at run time, which no build rewrites: they
// are found through these two functions.

/** True when the module at this URL runs from its TypeScript source (through tsx), not from a build. */
export const runsFromSource = (moduleUrl: string): boolean => moduleUrl.endsWith('.ts');

/**
 * The URL of `relative` (written with its .ts name) beside the module at `callerUrl`, with the caller's
 * own extension: `siblingModule(import.meta.url, './worker.ts')`.
 */
export function siblingModule(callerUrl: string, relative: string): URL {
  const name = runsFromSource(callerUrl) ? relative : relative.replace(/\.ts$/, '.js');
  return new URL(name, callerUrl);
}
