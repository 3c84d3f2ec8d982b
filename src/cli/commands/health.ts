import type { Command } from 'commander';
import { isTenantmlError } from '../../sdk/errors.ts';
import { ExitCode, emit, record } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

export function registerHealth(program: Command, ctx: CommandContext): void {
  program
    .command('health')
    .description('check that the server is alive and ready; exit 1 when it is not ready')
    .action(async (_opts, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      const live = await client.health();
      const ready = await client.ready().then(
        (r) => ({ ok: true, status: r.status }),
        (err: unknown) => {
          if (isTenantmlError(err) && err.status === 503) return { ok: false, status: err.detail };
          throw err;
        },
      );
      emit(ctx.io, wantsJson(cmd), { url: client.baseUrl, live: live.status, ready }, () =>
        record([
          ['url', client.baseUrl],
          ['live', live.status],
          ['ready', ready.ok ? ready.status : `no (${ready.status})`],
        ]),
      );
      if (!ready.ok) throw new ExitCode(1);
    });
}
