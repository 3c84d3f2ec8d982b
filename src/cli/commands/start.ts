// `tenantml start`: the platform in this process, configured from the environment, stopped cleanly on
// SIGTERM/SIGINT (requests in flight finish, the database closes) with exit code 0.
import type { Command } from 'commander';
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
      const { startPlatform } = await import('../../platform.ts');
      const { limitHeapGrowth } = await import('../../runtime/heap.ts');
      limitHeapGrowth(config.heapGrowingPercent);
      const running = await withConfigErrors(io, () => startPlatform(config));
      // The native engine's parity probe runs once per process, in a child (~0.3 s): started now, so the
      // first prediction of a model using Sigmoid, Softmax or MatMul does not wait for it. Never rejects.
      if (config.inferenceEngine === 'auto')
        void import('../../runtime/native/parity-probe.ts').then((p) => p.processParity());
      io.stderr(`tenantml is serving on ${running.url}\n`);
      if (running.adminKeyFile) io.stderr(`operator key: ${running.adminKeyFile}\n`);
      stopOnSignals(io, 'closing', () => running.close());
      ctx.keepRunning = true;
    });
}
