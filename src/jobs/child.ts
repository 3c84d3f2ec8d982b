// The entry point of a training child process (forked by the supervisor with the tsx loader and a heap
// limit). It waits for one start message, trains, sends the result and exits. It also exits as soon as
// its parent is gone — on 'disconnect', or, while training blocks the event loop, when its parent pid
// changes (it was re-parented) — so a killed worker leaves no orphan training behind.

import type { ChildMessage, CpuReport, ParentMessage } from './protocol.ts';
import { runTraining, safeMessage } from './runner.ts';

const parentPid = process.ppid;

function parentGone(): void {
  process.exit(70);
}

const cpu = (): CpuReport => {
  const u = process.cpuUsage();
  return { user: u.user, system: u.system };
};

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return parentGone();
    process.send(m, undefined, {}, (err) => {
      if (err) parentGone();
      resolve();
    });
  });
}

if (!process.send) {
  process.stderr.write('tenantml: the training child runs only under the worker supervisor\n');
  process.exit(2);
}

process.on('disconnect', parentGone);
setInterval(() => {
  if (process.ppid !== parentPid) parentGone();
}, 250).unref();

process.once('message', async (raw: unknown) => {
  const msg = raw as ParentMessage;
  if (msg?.type !== 'start') {
    process.stderr.write('tenantml: unexpected first message\n');
    process.exit(2);
  }
  let out: ChildMessage;
  try {
    const result = await runTraining(msg, {
      send: (m) => {
        if (process.connected) process.send?.(m);
      },
      checkpoint: () => {
        if (process.ppid !== parentPid) parentGone();
      },
    });
    out = { ...result, cpu: cpu() };
  } catch (err) {
    out = { type: 'error', ...safeMessage(err), cpu: cpu() };
  }
  await send(out);
  // The last figure, after the result was serialised and written: what the supervisor meters.
  await send({ type: 'usage', cpu: cpu() });
  process.off('disconnect', parentGone);
  process.disconnect();
  process.exit(0);
});
