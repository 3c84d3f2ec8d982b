import type { Command } from 'commander';
import { ExitCode, emit, table } from '../output.ts';
import { type CommandContext, clientOf, globalsOf, wantsJson, wholeNumber } from './shared.ts';

export function registerAudit(program: Command, ctx: CommandContext): void {
  const audit = program.command('audit').description('read the audit log');

  audit
    .command('list')
    .description(
      'list audit entries: every chain for the operator (--tenant narrows to one; "operator" for its own), a tenant admin’s own',
    )
    .option('--limit <n>', 'at most this many entries (1–1000; server default 100)', wholeNumber)
    .option('--after <seq>', 'entries after this sequence number', wholeNumber)
    .option('--verify', 'verify the hash chain (operator: needs --tenant); exit 1 when it is broken')
    .action(async (opts: { limit?: number; after?: number; verify?: boolean }, cmd: Command) => {
      const tenant = globalsOf(cmd).tenant?.trim() || undefined;
      const res = await clientOf(ctx, cmd).audit.list({
        limit: opts.limit,
        after: opts.after,
        tenant,
        verify: opts.verify,
      });
      emit(ctx.io, wantsJson(cmd), res, () => {
        let out = table(
          ['SEQ', 'AT', 'TENANT', 'ACTOR', 'ROLE', 'ACTION', 'TARGET', 'OUTCOME'],
          res.entries.map((e) => [
            e.seq,
            e.at,
            e.tenantId,
            e.actorKeyId,
            e.actorRole,
            e.action,
            e.target,
            e.outcome,
          ]),
        );
        if (res.verified) {
          const v = res.verified;
          out += v.ok
            ? '\nchain verified: intact\n'
            : `\nchain verification FAILED at seq ${v.brokenAt ?? '?'}: ${v.reason ?? 'no reason given'}\n`;
        }
        return out;
      });
      if (res.verified && !res.verified.ok) throw new ExitCode(1);
    });
}
