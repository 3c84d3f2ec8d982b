// `tenantml budget`: the tenant's monthly budget — show it with this month's state, set it, clear it; the
// operator lifts (or restores) the hard limit for the current month.
import { type Command, InvalidArgumentError } from 'commander';
import type { BudgetViewBody } from '../../sdk/index.ts';
import { emit, record } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

/** `0.5,0.8,1` → the thresholds, each a number in (0, 10]; order and repeats are the server's to check. */
function parseThresholds(value: string): number[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0)
    throw new InvalidArgumentError('expected numbers separated by commas, e.g. 0.5,0.8,1');
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${p}" is not a number`);
    return n;
  });
}

function money(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toFixed(6)).toString();
}

function budgetText(v: BudgetViewBody): string {
  const { budget: b, state: s, currency } = v;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  return record([
    ['month', s.month],
    ['spent', `${money(s.spent)} ${currency}`],
    ['monthly', `${money(b.monthly)} ${currency}`],
    ['used', s.ratio === null ? 'over (limit 0)' : pct(s.ratio)],
    ['alert at', b.alertAt.map(pct).join(', ')],
    ['alerted', s.alerted.length ? s.alerted.map(pct).join(', ') : 'none'],
    ['hard limit', b.hardLimit ? (b.blockPredictions ? 'training and predictions' : 'training') : 'off'],
    ['override', b.overrideMonth ?? 'none'],
    [
      'blocks now',
      [s.blocks.training ? 'training' : '', s.blocks.predictions ? 'predictions' : '']
        .filter(Boolean)
        .join(', ') || 'nothing',
    ],
  ]);
}

export function registerBudget(program: Command, ctx: CommandContext): void {
  const budget = program
    .command('budget')
    .description('the tenant’s monthly budget (tenant admin key, or operator key with --tenant)');

  budget
    .command('show', { isDefault: true })
    .description('show the budget and this month’s state')
    .action(async (_opts, cmd: Command) => {
      const v = await clientOf(ctx, cmd).budget.get();
      emit(ctx.io, wantsJson(cmd), v, () => budgetText(v));
    });

  budget
    .command('set')
    .description('set the monthly budget (replaces the previous one; an override of this month is kept)')
    .requiredOption(
      '--monthly <amount>',
      'spend allowed per calendar month (UTC), in the price currency',
      (v) => {
        const n = v.trim() === '' ? Number.NaN : Number(v);
        if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
        return n;
      },
    )
    .option('--alert-at <list>', 'thresholds as fractions, ascending (default 0.5,0.8,1)', parseThresholds)
    .option('--hard-limit', 'at 100%: refuse new training jobs (402)')
    .option('--block-predictions', 'with --hard-limit: refuse predictions too')
    .action(
      async (
        opts: { monthly: number; alertAt?: number[]; hardLimit?: boolean; blockPredictions?: boolean },
        cmd: Command,
      ) => {
        const v = await clientOf(ctx, cmd).budget.put({
          monthly: opts.monthly,
          ...(opts.alertAt ? { alertAt: opts.alertAt } : {}),
          hardLimit: opts.hardLimit === true,
          blockPredictions: opts.blockPredictions === true,
        });
        emit(ctx.io, wantsJson(cmd), v, () => budgetText(v));
      },
    );

  budget
    .command('clear')
    .description('remove the budget: nothing is alerted or refused any more')
    .action(async (_opts, cmd: Command) => {
      await clientOf(ctx, cmd).budget.delete();
      emit(ctx.io, wantsJson(cmd), { deleted: 'budget' }, () => 'budget removed\n');
    });

  budget
    .command('override')
    .description('operator: lift the hard limit for the current month (--off restores it)')
    .option('--off', 'restore the hard limit')
    .action(async (opts: { off?: boolean }, cmd: Command) => {
      const v = await clientOf(ctx, cmd).budget.put({ override: opts.off !== true });
      emit(ctx.io, wantsJson(cmd), v, () => budgetText(v));
    });
}
