import { type Command, Option } from 'commander';
import { emit, record, table } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

export function registerKeys(program: Command, ctx: CommandContext): void {
  const keys = program.command('keys').description('manage a tenant’s API keys (operator key)');

  keys
    .command('create')
    .description('create an API key for a tenant; the secret is shown once')
    .argument('<tenant>', 'tenant id')
    .addOption(
      new Option('--role <role>', 'admin: data and models; predict: inference and feedback only')
        .choices(['admin', 'predict'])
        .makeOptionMandatory(),
    )
    .action(async (tenant: string, opts: { role: 'admin' | 'predict' }, cmd: Command) => {
      const k = await clientOf(ctx, cmd).keys.create(tenant, opts.role);
      emit(ctx.io, wantsJson(cmd), k, () =>
        record([
          ['id', k.id],
          ['tenant', k.tenantId],
          ['role', k.role],
          ['created', k.createdAt],
          ['key', k.key],
        ]),
      );
      if (!wantsJson(cmd)) ctx.io.stderr('The key is shown this once; store it now.\n');
    });

  keys
    .command('list')
    .description('list a tenant’s keys (never their secrets)')
    .argument('<tenant>', 'tenant id')
    .action(async (tenant: string, _opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).keys.list(tenant);
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['ID', 'ROLE', 'CREATED', 'CREATED BY', 'LAST USED', 'REVOKED'],
          list.map((k) => [k.id, k.role, k.createdAt, k.createdBy, k.lastUsedAt, k.revokedAt]),
        ),
      );
    });

  keys
    .command('revoke')
    .description('revoke a key; it stops working at once')
    .argument('<tenant>', 'tenant id')
    .argument('<keyId>', 'key id (from keys list)')
    .action(async (tenant: string, keyId: string, _opts, cmd: Command) => {
      await clientOf(ctx, cmd).keys.revoke(tenant, keyId);
      emit(ctx.io, wantsJson(cmd), { revoked: keyId, tenantId: tenant }, () => `revoked key ${keyId}\n`);
    });
}
