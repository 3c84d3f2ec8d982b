// `tenantml webhooks`: subscribe URLs to a tenant's alert events, read the delivery log, queue a test.
import { type Command, InvalidArgumentError } from 'commander';
import { ALERT_EVENTS, type AlertEvent } from '../../core/monitoring.ts';
import type { WebhookDeliveryView, WebhookView } from '../../sdk/index.ts';
import { emit, record, table } from '../output.ts';
import { type CommandContext, clientOf, wantsJson, wholeNumber } from './shared.ts';

/** `drift,promotion` → the events, each checked against the list, repeats dropped. */
function parseEvents(value: string): AlertEvent[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new InvalidArgumentError(`name at least one of ${ALERT_EVENTS.join(', ')}`);
  const unknown = names.filter((n) => !(ALERT_EVENTS as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown event ${unknown.join(', ')}; events: ${ALERT_EVENTS.join(', ')}`);
  return [...new Set(names)] as AlertEvent[];
}

function webhookText(w: WebhookView): string {
  return record([
    ['id', w.id],
    ['url', w.url],
    ['events', w.events.join(', ')],
    ['created', w.createdAt],
    ['created by', w.createdBy],
  ]);
}

function deliveriesText(list: WebhookDeliveryView[]): string {
  if (list.length === 0) return 'no deliveries yet\n';
  return table(
    ['ID', 'EVENT', 'STATE', 'ATTEMPTS', 'LAST STATUS', 'LAST ERROR', 'CREATED', 'DELIVERED', 'NEXT ATTEMPT'],
    list.map((d) => [
      d.id,
      d.event,
      d.state,
      d.attempts,
      d.lastStatus,
      d.lastError,
      d.createdAt,
      d.deliveredAt,
      d.state === 'pending' ? d.nextAttemptAt : null,
    ]),
  );
}

export function registerWebhooks(program: Command, ctx: CommandContext): void {
  const webhooks = program
    .command('webhooks')
    .description('alert webhooks of the tenant (tenant admin key, or operator key with --tenant)');

  webhooks
    .command('create')
    .description('subscribe a URL to alert events; the signing secret is shown once')
    .argument('<url>', 'http(s) URL the alerts are POSTed to (no private or loopback address)')
    .option(
      '--events <list>',
      `comma-separated events (default all): ${ALERT_EVENTS.join(', ')}`,
      parseEvents,
    )
    .action(async (url: string, opts: { events?: AlertEvent[] }, cmd: Command) => {
      const w = await clientOf(ctx, cmd).webhooks.create({ url, events: opts.events ?? [...ALERT_EVENTS] });
      const json = wantsJson(cmd);
      emit(ctx.io, json, w, () => webhookText(w) + record([['secret', w.secret]]));
      if (!json)
        ctx.io.stderr(
          'The secret is shown this once; store it now. It verifies the Tenantml-Signature header of each delivery (verifyWebhookSignature in the SDK).\n',
        );
    });

  webhooks
    .command('list')
    .description('list the tenant’s webhooks (never their secrets)')
    .action(async (_opts, cmd: Command) => {
      const list = await clientOf(ctx, cmd).webhooks.list();
      emit(ctx.io, wantsJson(cmd), list, () =>
        table(
          ['ID', 'URL', 'EVENTS', 'CREATED', 'CREATED BY'],
          list.map((w) => [w.id, w.url, w.events.join(','), w.createdAt, w.createdBy]),
        ),
      );
    });

  webhooks
    .command('show')
    .description('show a webhook and its latest deliveries')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _opts, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      const w = await client.webhooks.get(id);
      const json = wantsJson(cmd);
      if (json) {
        emit(ctx.io, json, w, () => '');
        return;
      }
      const recent = await client.webhooks.deliveries(id, { limit: 10 });
      ctx.io.stdout(`${webhookText(w)}\nlatest deliveries:\n${deliveriesText(recent)}`);
    });

  webhooks
    .command('delete')
    .description('delete a webhook and its deliveries, pending or not')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _opts, cmd: Command) => {
      await clientOf(ctx, cmd).webhooks.delete(id);
      emit(ctx.io, wantsJson(cmd), { deleted: id }, () => `deleted webhook ${id}\n`);
    });

  webhooks
    .command('deliveries')
    .description('a webhook’s deliveries, newest first: state, attempts, the receiver’s last answer')
    .argument('<id>', 'webhook id')
    .option('--limit <n>', 'at most this many (1–200, default 50)', wholeNumber)
    .action(async (id: string, opts: { limit?: number }, cmd: Command) => {
      const list = await clientOf(ctx, cmd).webhooks.deliveries(id, { limit: opts.limit });
      emit(ctx.io, wantsJson(cmd), list, () => deliveriesText(list));
    });

  webhooks
    .command('test')
    .description('queue a delivery of event "test" to a webhook')
    .argument('<id>', 'webhook id')
    .action(async (id: string, _opts, cmd: Command) => {
      const d = await clientOf(ctx, cmd).webhooks.test(id);
      const json = wantsJson(cmd);
      emit(ctx.io, json, d, () =>
        record([
          ['delivery', d.id],
          ['event', d.event],
          ['state', d.state],
          ['created', d.createdAt],
        ]),
      );
      if (!json) ctx.io.stderr(`follow it with: tenantml webhooks deliveries ${id}\n`);
    });
}
