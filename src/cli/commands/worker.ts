// `tenantml worker`: training workers only, no HTTP, configured like `start`. Run any number of them
// against one PostgreSQL, or beside a `start` with TENANTML_WORKER_SLOTS=0 on the same SQLite folder.
// SIGTERM/SIGINT stops claiming, lets running jobs finish for a grace period, and exits 0.
import type { Command } from 'commander';
import { loadServerConfig, stopOnSignals, withConfigErrors } from './serve.ts';
import type { CommandContext } from './shared.ts';

export function registerWorker(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run training workers only, no API (configured by TENANTML_* variables like start)')
    .option('--slots <n>', 'jobs run at once (TENANTML_WORKER_SLOTS; default 2)')
    .option('--data-dir <dir>', 'data folder (TENANTML_DATA_DIR; default ./data)')
    .action(async (opts: { slots?: string; dataDir?: string }) => {
      const { io } = ctx;
      const config = await loadServerConfig(io, opts);
      // Loaded here, not at the top: the client commands never pay for the server's modules.
      const [{ startWorkerProcess }, { pino }] = await Promise.all([
        import('../../platform.ts'),
        import('pino'),
      ]);
      const log = pino({ level: config.logLevel, base: { role: 'worker', pid: process.pid } });
      const running = await withConfigErrors(io, () => startWorkerProcess(config, { log }));
      io.stderr(
        `tenantml worker: ${config.workerSlots} slot${config.workerSlots === 1 ? '' : 's'} on ${running.store.dialect}\n`,
      );
      stopOnSignals(io, 'stopping; running jobs get a grace period, then return to the queue', () =>
        running.close(),
      );
      ctx.keepRunning = true;
    });
}
