// `tenantml usage`: metered usage and cost per period (a tenant admin: its own; the operator: every tenant,
// or one with --tenant); `tenantml usage report --month YYYY-MM`: the operator's monthly report — usage,
// cost and budget state per tenant, as a table or CSV. docs/metering.md.
import { type Command, InvalidArgumentError } from 'commander';
import { monthRange, USAGE_KINDS } from '../../core/metering.ts';
import type { TenantmlClient } from '../../sdk/client.ts';
import { isTenantmlError } from '../../sdk/errors.ts';
import type { BudgetViewBody } from '../../sdk/index.ts';
import type { UsageQuery, UsageReport } from '../../sdk/resources/usage.ts';
import { emit, table } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

type Totals = UsageReport['tenants'][number]['total']['usage'];

const GRANULARITIES = ['hour', 'day', 'month'] as const;

function granularity(value: string): NonNullable<UsageQuery['granularity']> {
  const g = value.trim();
  if (!(GRANULARITIES as readonly string[]).includes(g))
    throw new InvalidArgumentError(`expected one of ${GRANULARITIES.join(', ')}`);
  return g as NonNullable<UsageQuery['granularity']>;
}

function month(value: string): string {
  if (!monthRange(value.trim())) throw new InvalidArgumentError('expected a month as YYYY-MM');
  return value.trim();
}

/** Up to 6 significant digits, no exponent for everyday sizes. */
const n = (x: number | undefined): string => {
  const v = x ?? 0;
  return v === 0 ? '0' : Number(v.toPrecision(6)).toString();
};
const money = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toPrecision(3) : x.toFixed(4));
const gbHours = (byteHours: number | undefined): string => n((byteHours ?? 0) / 1e9);

function usageRow(u: Totals): string[] {
  return [
    n(u.training_cpu_seconds),
    n(u.predicted_rows),
    n(u.predict_requests),
    n(u.inference_cpu_seconds),
    gbHours(u.storage_byte_hours),
    n(u.monitoring_runs),
  ];
}

const USAGE_HEADERS = ['TRAIN CPU-S', 'PRED ROWS', 'REQUESTS', 'INFER CPU-S', 'STORAGE GB-H', 'MON RUNS'];

function policyLine(r: UsageReport): string {
  if (!r.sharedCostPolicy) return '';
  return r.sharedCostPolicy === 'contributors'
    ? 'shared-model training: paid by the contributing tenants, by rows (SHARED CPU-S)\n'
    : 'shared-model training: kept by the operator (tenant _shared)\n';
}

/** The tenant's budget and its state this month (GET /v1/budget with X-Tenant-Id), or null when it has none. */
async function budgetOf(client: TenantmlClient, tenantId: string): Promise<BudgetViewBody | null> {
  try {
    return await client.withTenant(tenantId).budget.get();
  } catch (err) {
    if (isTenantmlError(err) && err.status === 404) return null;
    throw err;
  }
}

/** A budget line of the report month: the monthly limit, the month's cost against it, and what it blocks now. */
interface BudgetLine {
  monthly: number;
  /** cost / monthly (null: a zero budget with spend). */
  ratio: number | null;
  /** What the hard limit refuses now; null for a month other than the current one. */
  blocks: { training: boolean; predictions: boolean } | null;
}

function budgetLine(b: BudgetViewBody | null, cost: number, month: string): BudgetLine | null {
  if (!b) return null;
  const monthly = b.budget.monthly;
  return {
    monthly,
    ratio: monthly > 0 ? cost / monthly : cost > 0 ? null : 0,
    blocks: b.state.month === month ? b.state.blocks : null,
  };
}

function budgetCells(b: BudgetLine | null): string[] {
  if (!b) return ['—', '—', '—'];
  const ratio = b.ratio === null ? '∞' : `${Math.round(b.ratio * 1000) / 10}%`;
  const blocked = !b.blocks
    ? '—'
    : b.blocks.predictions
      ? 'training+predictions'
      : b.blocks.training
        ? 'training'
        : 'no';
  return [money(b.monthly), ratio, blocked];
}

interface ReportLine {
  tenantId: string;
  usage: Totals;
  sharedUsage: Totals;
  cost: number;
  budget: BudgetLine | null;
}

/** One CSV field, quoted when it must be. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function registerUsage(program: Command, ctx: CommandContext): void {
  const usage = program
    .command('usage')
    .description(
      'metered usage and cost per period: a tenant admin’s own; the operator’s for every tenant (--tenant: one)',
    )
    .option('--from <when>', 'start (inclusive): YYYY-MM-DD or a date-time with a zone; default this month')
    .option('--to <when>', 'end (exclusive), same forms; default the end of the month of --from')
    .option('--granularity <g>', 'hour, day (default) or month', granularity)
    .action(async (opts: UsageQuery, cmd: Command) => {
      const res = await clientOf(ctx, cmd).usage.get({
        from: opts.from,
        to: opts.to,
        granularity: opts.granularity,
      });
      emit(ctx.io, wantsJson(cmd), res, () => {
        const rows: unknown[][] = [];
        for (const t of res.tenants) {
          for (const p of t.periods)
            rows.push([
              t.tenantId,
              p.start,
              ...usageRow(p.usage),
              n(p.sharedUsage.training_cpu_seconds),
              money(p.cost.total),
            ]);
        }
        return (
          `usage ${res.from} → ${res.to} by ${res.granularity}, cost in ${res.currency}\n` +
          policyLine(res) +
          table(['TENANT', 'PERIOD', ...USAGE_HEADERS, 'SHARED CPU-S', 'COST'], rows)
        );
      });
    });

  usage
    .command('report')
    .description(
      'operator: usage, cost and budget state of every tenant for one month (table, --csv or --json)',
    )
    .requiredOption('--month <YYYY-MM>', 'the calendar month (UTC)', month)
    .option('--csv', 'print CSV (one line per tenant) instead of a table')
    .action(async (opts: { month: string; csv?: boolean }, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      const { from, to } = monthRange(opts.month) as { from: string; to: string };
      const res = await client.usage.get({ from, to, granularity: 'month' });
      // Every tenant appears, with usage or not; the shared namespace when it has usage (operator policy).
      const ids = new Set<string>((await client.tenants.list()).map((t) => t.id));
      for (const t of res.tenants) ids.add(t.tenantId);
      const byId = new Map(res.tenants.map((t) => [t.tenantId, t]));
      const lines: ReportLine[] = [];
      for (const id of [...ids].sort()) {
        const u = byId.get(id)?.total ?? { usage: {}, sharedUsage: {}, cost: null };
        // The shared namespace has no budget: it is the operator's own spend.
        const cost = u.cost?.total ?? 0;
        const view = id.startsWith('_') ? null : await budgetOf(client, id);
        lines.push({
          tenantId: id,
          usage: u.usage,
          sharedUsage: u.sharedUsage,
          cost,
          budget: budgetLine(view, cost, opts.month),
        });
      }
      const report = {
        month: opts.month,
        currency: res.currency,
        sharedCostPolicy: res.sharedCostPolicy,
        prices: res.prices,
        tenants: lines,
      };
      if (opts.csv) {
        const header = [
          'tenant',
          'month',
          ...USAGE_KINDS,
          'shared_training_cpu_seconds',
          'cost',
          'currency',
          'budget_monthly',
          'budget_ratio',
          'blocks_training',
          'blocks_predictions',
        ];
        const body = lines.map((l) =>
          [
            l.tenantId,
            opts.month,
            ...USAGE_KINDS.map((k) => l.usage[k] ?? 0),
            l.sharedUsage.training_cpu_seconds ?? 0,
            l.cost,
            res.currency,
            l.budget?.monthly ?? '',
            l.budget?.ratio ?? '',
            l.budget?.blocks?.training ?? '',
            l.budget?.blocks?.predictions ?? '',
          ]
            .map(csvField)
            .join(','),
        );
        ctx.io.stdout(`${[header.join(','), ...body].join('\n')}\n`);
        return;
      }
      emit(ctx.io, wantsJson(cmd), report, () => {
        const rows = lines.map((l) => [
          l.tenantId,
          ...usageRow(l.usage),
          n(l.sharedUsage.training_cpu_seconds),
          money(l.cost),
          ...budgetCells(l.budget),
        ]);
        return (
          `usage report ${opts.month}, cost in ${res.currency}\n` +
          policyLine(res) +
          table(['TENANT', ...USAGE_HEADERS, 'SHARED CPU-S', 'COST', 'BUDGET', 'USED', 'BLOCKS'], rows)
        );
      });
    });
}
