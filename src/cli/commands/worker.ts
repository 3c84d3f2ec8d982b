// `tenantml worker`: training workers only, no HTTP, configured like `start`. Run any number of them
// against one PostgreSQL, or beside a `start` with TENANTML_WORKER_SLOTS=0 on the same SQLite folder.
// SIGTERM/SIGINT stops claiming, lets running jobs finish for a grace period, and exits 0.
import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../../core/config.ts';
import { ExitCode } from '../output.ts';
import type { CommandContext } from './shared.ts';
import { serverEnv } from './start.ts';

export function registerWorker(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run training workers only, no API (configured by TENANTML_* variables like start)')
    .option('--slots <n>', 'jobs run at once (TENANTML_WORKER_SLOTS; default 2)')
    .option('--data-dir <dir>', 'data folder (TENANTML_DATA_DIR; default ./data)')
    .action(async (opts: { slots?: string; dataDir?: string }) => {
      const { io } = ctx;
      const env = serverEnv(io.env, { dataDir: opts.dataDir });
      if (opts.slots !== undefined) env.TENANTML_WORKER_SLOTS = opts.slots;
      let config: Config;
      try {
        config = loadConfig(env, io.cwd);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr(`${err.message}\n`);
        throw new ExitCode(2);
      }
      // Loaded here, not at the top: the client commands never pay for the server's modules.
      const [{ startWorkerProcess }, { pino }] = await Promise.all([
        import('../../platform.ts'),
        import('pino'),
      ]);
      const log = pino({ level: config.logLevel, base: { role: 'worker', pid: process.pid } });
      let running: Awaited<ReturnType<typeof startWorkerProcess>>;
      try {
        running = await startWorkerProcess(config, { log });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr(`${err.message}\n`);
        throw new ExitCode(2);
      }
      io.stderr(
        `tenantml worker: ${config.workerSlots} slot${config.workerSlots === 1 ? '' : 's'} on ${running.store.dialect}\n`,
      );

      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          io.stderr(`${signal} again: exiting without waiting\n`);
          process.exit(1);
        }
        stopping = true;
        io.stderr(`${signal}: stopping; running jobs get a grace period, then return to the queue\n`);
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            io.stderr(
              `error internal: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`,
            );
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      ctx.keepRunning = true;
    });
}
