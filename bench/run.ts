// Runs one benchmark: `npm run bench -- <name> [args…]` imports bench/<name>.ts and calls its main(args).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [name, ...args] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <name> [args…]  (a file bench/<name>.ts)`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
  main?: (args: string[]) => Promise<void>;
};
if (typeof mod.main !== 'function') {
  console.error(`bench/${name}.ts does not export main(args)`);
  process.exit(2);
}
await mod.main(args);
