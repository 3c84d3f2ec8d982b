// `tenantml start`: the platform in this process, configured from the environment, stopped cleanly on
// SIGTERM/SIGINT (requests in flight finish, the database closes) with exit code 0.
import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../../core/config.ts';
import { ExitCode } from '../output.ts';
import type { CommandContext } from './shared.ts';

/** Client-side settings: they may sit in the same shell as the server's and are not its business. */
export const CLIENT_VARIABLES = ['TENANTML_URL', 'TENANTML_API_KEY', 'TENANTML_TENANT'] as const;

export function serverEnv(
  env: Readonly<Record<string, string | undefined>>,
  opts: { port?: string; host?: string; dataDir?: string },
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  for (const name of CLIENT_VARIABLES) delete out[name];
  if (opts.port !== undefined) out.TENANTML_PORT = opts.port;
  if (opts.host !== undefined) out.TENANTML_HOST = opts.host;
  if (opts.dataDir !== undefined) out.TENANTML_DATA_DIR = opts.dataDir;
  return out;
}

export function registerStart(program: Command, ctx: CommandContext): void {
  program
    .command('start')
    .description('serve the platform (configured by TENANTML_* variables; see docs/cli.md)')
    .option('--port <port>', 'port to listen on (TENANTML_PORT; default 8080)')
    .option('--host <host>', 'address to listen on (TENANTML_HOST; default 0.0.0.0)')
    .option('--data-dir <dir>', 'data folder (TENANTML_DATA_DIR; default ./data)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      const { io } = ctx;
      let config: Config;
      try {
        config = loadConfig(serverEnv(io.env, opts), io.cwd);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr(`${err.message}\n`);
        throw new ExitCode(2);
      }
      // Loaded here, not at the top: the client commands never pay for the server's modules.
      const { startPlatform } = await import('../../platform.ts');
      let running: Awaited<ReturnType<typeof startPlatform>>;
      try {
        running = await startPlatform(config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.stderr(`${err.message}\n`);
        throw new ExitCode(2);
      }
      io.stderr(`tenantml is serving on ${running.url}\n`);
      if (running.adminKeyFile) io.stderr(`operator key: ${running.adminKeyFile}\n`);

      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // A second signal while closing: the operator wants out now.
          io.stderr(`${signal} again: exiting without waiting\n`);
          process.exit(1);
        }
        stopping = true;
        io.stderr(`${signal}: closing\n`);
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            io.stderr(
              `error internal: closing failed: ${err instanceof Error ? err.message : String(err)}\n`,
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
