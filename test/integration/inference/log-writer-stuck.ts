// A writer thread entry for tests: a thread that takes records and flush requests and never answers or
// writes anything — a disk blocked for ever, which close() must survive.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', () => {});
