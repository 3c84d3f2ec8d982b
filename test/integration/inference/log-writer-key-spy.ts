// A writer thread entry for tests: the real thread (log-writer/worker.ts), plus a check, as it answers each
// flush, of the data keys that flush carried — one line per flush in <root>/key-spy.ndjson: how many keys,
// and whether every one of them was zeroed by then.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import '../../../src/services/inference/log-writer/worker.ts';
import type {
  FromWriter,
  ToWriter,
  WriterData,
} from '../../../src/services/inference/log-writer/protocol.ts';

const port = parentPort!;
const seen = new Map<number, Uint8Array[]>();
// Registered after the thread's own listener: it sees the same message object the thread works with.
port.on('message', (m: ToWriter) => {
  if (m.type === 'flush')
    seen.set(
      m.id,
      m.keys.flatMap(([, key]) => (key ? [key] : [])),
    );
});
const post = port.postMessage.bind(port);
port.postMessage = (m: FromWriter) => {
  if (m.type === 'flushed') {
    const keys = seen.get(m.id) ?? [];
    seen.delete(m.id);
    const line = { keys: keys.length, zeroed: keys.every((k) => k.every((b) => b === 0)) };
    appendFileSync(join((workerData as WriterData).root, 'key-spy.ndjson'), `${JSON.stringify(line)}\n`);
  }
  post(m);
};
