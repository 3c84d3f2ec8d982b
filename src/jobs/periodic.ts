// Periodic work of the worker role (the monitoring cycle, webhook deliveries): each task runs on its own
// interval, never overlapping itself; a failure is logged and the next run comes on time; stop() waits
// for the runs in progress.

export interface PeriodicTask {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export interface Periodic {
  stop(): Promise<void>;
}

export function startPeriodic(
  tasks: PeriodicTask[],
  log: { warn(obj: object, msg: string): void },
): Periodic {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  for (const task of tasks) {
    let busy = false;
    const tick = () => {
      if (stopped || busy) return;
      busy = true;
      const p = task
        .run()
        .catch((err) => log.warn({ task: task.name, err: String(err) }, 'periodic task failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    const t = setInterval(tick, task.everyMs);
    t.unref();
    timers.push(t);
  }
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all([...running]);
    },
  };
}
