// A writer thread entry for tests: the real thread (log-writer/worker.ts) with a fault outside its
// per-file error handling — naming a batch file throws — as a bug in the thread would.
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

crypto.randomBytes = (() => {
  throw new Error('injected fault');
}) as typeof crypto.randomBytes;
syncBuiltinESMExports();
await import('../../../src/services/inference/log-writer/worker.ts');
