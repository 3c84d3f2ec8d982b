// The `tenantml` command tree, and running it against any I/O (tests run it in-process).
import { Command, CommanderError } from 'commander';
import { isTenantmlError } from '../sdk/errors.ts';
import type { FetchLike } from '../sdk/transport.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBudget } from './commands/budget.ts';
import { registerDatasets } from './commands/datasets.ts';
import { registerHealth } from './commands/health.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerKeys } from './commands/keys.ts';
import { registerMetrics } from './commands/metrics.ts';
import { registerModels } from './commands/models.ts';
import { registerMonitor } from './commands/monitor.ts';
import { registerPredict } from './commands/predict.ts';
import { registerProvenance } from './commands/provenance.ts';
import { registerQuotas } from './commands/quotas.ts';
import type { CommandContext } from './commands/shared.ts';
import { registerShared } from './commands/shared-models.ts';
import { registerStart } from './commands/start.ts';
import { registerTenants } from './commands/tenants.ts';
import { registerTrain } from './commands/train.ts';
import { registerUsage } from './commands/usage.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { registerWorker } from './commands/worker.ts';
import { DEFAULT_URL } from './context.ts';
import { type CliIo, describeError, ExitCode } from './output.ts';

export const CLI_VERSION = '0.1.0';

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('tenantml')
    .description('self-hosted multitenant machine learning: serve the platform, or manage it over HTTP')
    // Only -V is the program's own flag: a program flag is also matched after the command, and
    // `train --version <n>` names a dataset version. `--version` before any command is handled in runCli.
    .version(CLI_VERSION, '-V', 'output the version number (also --version before a command)')
    .option('--url <url>', `server URL (TENANTML_URL; default ${DEFAULT_URL})`)
    .option(
      '--key <key>',
      'API key (TENANTML_API_KEY; default: the operator key in <TENANTML_DATA_DIR or ./data>/admin.key)',
    )
    .option(
      '--tenant <id>',
      'operator key: the tenant that dataset, model, job, predict, monitor and webhook commands act on, and whose provenance to show (TENANTML_TENANT)',
    )
    .option('--json', 'print JSON instead of tables')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
    });
  // Subcommands made with .command() inherit exitOverride and the output settings.
  registerStart(program, ctx);
  registerWorker(program, ctx);
  registerTenants(program, ctx);
  registerKeys(program, ctx);
  registerDatasets(program, ctx);
  registerTrain(program, ctx);
  registerJobs(program, ctx);
  registerModels(program, ctx);
  registerPredict(program, ctx);
  registerMonitor(program, ctx);
  registerWebhooks(program, ctx);
  registerShared(program, ctx);
  registerProvenance(program, ctx);
  registerAudit(program, ctx);
  registerUsage(program, ctx);
  registerBudget(program, ctx);
  registerQuotas(program, ctx);
  registerHealth(program, ctx);
  registerMetrics(program, ctx);
  return program;
}

function hintFor(err: unknown, ctx: CommandContext): string | undefined {
  if (!isTenantmlError(err) || !ctx.settings) return undefined;
  if (err.code === 'network_error')
    return `is the server running at ${ctx.settings.baseUrl}? (tenantml start, or --url)`;
  if (err.code === 'unauthenticated' && !ctx.settings.apiKey) {
    return 'no API key: pass --key, set TENANTML_API_KEY, or run where <TENANTML_DATA_DIR or ./data>/admin.key exists';
  }
  if (err.code === 'tenant_header_required') return 'name the tenant with --tenant <id> or TENANTML_TENANT';
  // `provenance` with the operator key: the server asks for the tenant in its query.
  if (err.code === 'validation_failed' && err.errors.some((e) => e.field === 'tenant'))
    return 'name the tenant with --tenant <id> or TENANTML_TENANT';
  return undefined;
}

/** `--version` among the options before the command name (`tenantml --version`, `tenantml --json --version`). */
function wantsVersion(argv: readonly string[], program: Command): boolean {
  const commands = new Set(program.commands.map((c) => c.name()));
  for (const arg of argv) {
    if (arg === '--version') return true;
    if (commands.has(arg)) return false;
  }
  return false;
}

export interface RunResult {
  exitCode: number;
  /** True when the command left something running (`start`); the caller must not exit. */
  keepRunning: boolean;
}

/** Runs one command line (without `node` and the script). Never throws; never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIo, fetchImpl?: FetchLike): Promise<RunResult> {
  const ctx: CommandContext = { io, fetch: fetchImpl, keepRunning: false };
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return { exitCode: 2, keepRunning: false };
  }
  if (wantsVersion(argv, program)) {
    io.stdout(`${CLI_VERSION}\n`);
    return { exitCode: 0, keepRunning: false };
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { exitCode: 0, keepRunning: ctx.keepRunning };
  } catch (err) {
    if (err instanceof ExitCode) return { exitCode: err.code, keepRunning: false };
    if (err instanceof CommanderError) {
      // Help and version end with 0; every parse error is a usage error. Commander printed it already.
      return { exitCode: err.exitCode === 0 ? 0 : 2, keepRunning: false };
    }
    const { lines, exitCode } = describeError(err);
    const hint = hintFor(err, ctx);
    if (hint) lines.push(`  hint: ${hint}`);
    for (const line of lines) io.stderr(`${line}\n`);
    return { exitCode, keepRunning: false };
  }
}
