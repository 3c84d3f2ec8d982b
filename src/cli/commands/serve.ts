// What the two server commands (`start`, `worker`) share: the environment they read, a bad setting
// reported as exit code 2 without a stack trace, and a clean stop on SIGTERM/SIGINT.
import { type Config, ConfigError, loadConfig } from '../../core/config.ts';
import { type CliIo, ExitCode } from '../output.ts';

/** The server's environment with the command's flags applied on top. */
export function serverEnv(
  env: Readonly<Record<string, string | undefined>>,
  opts: { port?: string; host?: string; dataDir?: string; slots?: string },
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  if (opts.port !== undefined) out.TENANTML_PORT = opts.port;
  if (opts.host !== undefined) out.TENANTML_HOST = opts.host;
  if (opts.dataDir !== undefined) out.TENANTML_DATA_DIR = opts.dataDir;
  if (opts.slots !== undefined) out.TENANTML_WORKER_SLOTS = opts.slots;
  return out;
}

/** Runs `fn`, turning a ConfigError into its message on stderr and exit code 2. */
export async function withConfigErrors<T>(io: CliIo, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`${err.message}\n`);
    throw new ExitCode(2);
  }
}

export function loadServerConfig(io: CliIo, opts: Parameters<typeof serverEnv>[1]): Promise<Config> {
  return withConfigErrors(io, () => loadConfig(serverEnv(io.env, opts), io.cwd));
}

/**
 * On SIGTERM or SIGINT (or the `signals` given): say so, close, exit 0 (1 if closing failed). A second signal while closing
 * exits 1 at once: the operator wants out now (unless `again` is 'ignore').
 */
export function stopOnSignals(
  io: CliIo,
  what: string,
  close: () => Promise<void>,
  opts: { signals?: NodeJS.Signals[]; again?: 'exit' | 'ignore' } = {},
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping && opts.again === 'ignore') return;
    if (stopping) {
      io.stderr(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    io.stderr(`${signal}: ${what}\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        io.stderr(`error internal: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of opts.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, stop);
}
