// `tenantml start`: the platform in this process, configured from the environment, stopped cleanly on
// SIGTERM/SIGINT (requests in flight finish, the database closes) with exit code 0. With
// TENANTML_SERVE_PROCESSES above 1 this process becomes a serving pool's primary and the API runs in that
// many processes forked from it, each running this same command (docs/serving-pool.md).
import cluster from 'node:cluster';
import type { Command } from 'commander';
import type { Config } from '../../core/config.ts';
import type { CliIo } from '../output.ts';
import { loadServerConfig, stopOnSignals, withConfigErrors } from './serve.ts';
import type { CommandContext } from './shared.ts';

export function registerStart(program: Command, ctx: CommandContext): void {
  program
    .command('start')
    .description('serve the platform (configured by TENANTML_* variables; see docs/cli.md)')
    .option('--port <port>', 'port to listen on (TENANTML_PORT; default 8080)')
    .option('--host <host>', 'address to listen on (TENANTML_HOST; default 0.0.0.0)')
    .option('--data-dir <dir>', 'data folder (TENANTML_DATA_DIR; default ./data)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      const { io } = ctx;
      const config = await loadServerConfig(io, opts);
      // Loaded here, not at the top: the client commands never pay for the server's modules.
      const { isPoolProcess } = await import('../../runtime/pool/protocol.ts');
      if (config.serveProcesses > 1 && cluster.isPrimary) await startPrimary(io, config);
      else await startApi(io, config, isPoolProcess());
      ctx.keepRunning = true;
    });
}

/** The API in this process: the whole platform, or one API process of a serving pool. */
async function startApi(io: CliIo, config: Config, inPool: boolean): Promise<void> {
  // Loaded here, not at the top: the client commands never pay for the server's modules.
  const { startPlatform, startPoolProcess } = await import('../../platform.ts');
  const { limitHeapGrowth } = await import('../../runtime/heap.ts');
  limitHeapGrowth(config.heapGrowingPercent);
  const running = await withConfigErrors(io, () =>
    inPool ? startPoolProcess(config) : startPlatform(config),
  );
  // The native engine's parity probe runs once per process, in a child (~0.3 s): started now, so the
  // first prediction of a model using Sigmoid, Softmax or MatMul does not wait for it. Never rejects.
  if (config.inferenceEngine === 'auto')
    void import('../../runtime/native/parity-probe.ts').then((p) => p.processParity());
  if (inPool) {
    // The primary stops the pool with SIGTERM. A terminal's Ctrl-C reaches every process of the group,
    // and it is the primary's to act on; a service manager may send SIGTERM to the whole group and the
    // primary its own after it: the second must not skip the requests in flight.
    process.on('SIGINT', () => {});
    stopOnSignals(io, 'closing', () => running.close(), { signals: ['SIGTERM'], again: 'ignore' });
    return;
  }
  io.stderr(`tenantml is serving on ${running.url}\n`);
  if (running.adminKeyFile) io.stderr(`operator key: ${running.adminKeyFile}\n`);
  stopOnSignals(io, 'closing', () => running.close());
}

/** A serving pool's primary: training workers and background loops here, the API in forked processes. */
async function startPrimary(io: CliIo, config: Config): Promise<void> {
  const [{ startPoolPrimary }, { pino }] = await Promise.all([import('../../platform.ts'), import('pino')]);
  const log = pino({ level: config.logLevel, base: { role: 'pool', pid: process.pid } });
  const running = await withConfigErrors(io, () => startPoolPrimary(config, log));
  io.stderr(`tenantml is serving on ${running.url} (${config.serveProcesses} API processes)\n`);
  if (running.adminKeyFile) io.stderr(`operator key: ${running.adminKeyFile}\n`);
  stopOnSignals(io, 'closing the API processes (requests in flight finish), then the workers', () =>
    running.close(),
  );
}
