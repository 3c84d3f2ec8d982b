// Budgets (docs/budgets.md): a tenant's monthly spend limit, alerts at thresholds (each once a month:
// webhook event `budget` and an audit entry), and the hard limit that refuses new training jobs — and
// predictions when the tenant chose that — with 402 once the month's cost reaches the limit. The state is
// computed from the month's usage, so a budget resets on the first of each month (UTC); the operator may
// lift the hard limit for the current month. The predict path asks `predictionBlock`, which answers from
// a per-tenant copy of the state kept a few seconds: no store query per request.
import type { Clock } from '../../core/clock.ts';
import { AppError, type FieldError, invalidFields, notFound } from '../../core/errors.ts';
import {
  type Budget,
  type BudgetState,
  budgetState,
  DEFAULT_ALERT_AT,
  monthOf,
  thresholdsToAlert,
} from '../../core/metering.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../core/scope.ts';
import type { BudgetRepo } from '../../store/ports.ts';
import type { AuditService } from '../audit.ts';
import type { WebhookService } from '../webhooks/service.ts';

/** How long the predict path reuses a tenant's budget state, ms. */
export const BUDGET_STATE_TTL_MS = 5000;

/** Thresholds a budget may hold, at most. */
export const MAX_THRESHOLDS = 20;

/** The month's cost so far (services/metering/usage.ts: UsageService.monthToDate). */
export type MonthToDate = (scope: TenantScope, month?: string) => Promise<{ cost: { total: number } }>;

export interface BudgetServiceDeps {
  repo: BudgetRepo;
  monthToDate: MonthToDate;
  webhooks: Pick<WebhookService, 'emit'>;
  audit: Pick<AuditService, 'record'>;
  clock: Clock;
  /** The price table's currency (spent and limit are in it). */
  currency: string;
  stateTtlMs?: number;
  warn?: (obj: Record<string, unknown>, msg: string) => void;
}

/**
 * PUT /v1/budget. `override` (operator only) lifts the hard limit for the current month, or restores it;
 * `{override}` alone changes only that on the budget already set.
 */
export interface BudgetInput {
  monthly?: number;
  alertAt?: number[];
  hardLimit?: boolean;
  blockPredictions?: boolean;
  override?: boolean;
}

export interface BudgetView {
  budget: Budget;
  currency: string;
  /** `ratio` is null when it is not finite (a limit of 0 with anything spent). */
  state: Omit<BudgetState, 'ratio'> & { ratio: number | null; alerted: number[] };
}

/** To 6 decimals; a value too large for that (or not finite) is left as it is. */
const round = (x: number): number => {
  const r = Math.round(x * 1e6) / 1e6;
  return Number.isFinite(r) ? r : x;
};

/** The ratio an answer shows: null when it is not finite (a limit of 0 with anything spent). */
const shownRatio = (ratio: number): number | null => (Number.isFinite(ratio) ? round(ratio) : null);

/** Field errors of a budget request (range, order, types); empty when valid. */
export function budgetProblems(b: unknown): FieldError[] {
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    return [{ field: 'body', message: 'must be an object' }];
  const r = b as Record<string, unknown>;
  const out: FieldError[] = [];
  const known = ['monthly', 'alertAt', 'hardLimit', 'blockPredictions', 'override'];
  for (const k of Object.keys(r))
    if (!known.includes(k))
      out.push({ field: k, message: `is not a budget field; fields: ${known.join(', ')}` });
  const overrideOnly = r.monthly === undefined && r.override !== undefined && Object.keys(r).length === 1;
  if (!overrideOnly && (typeof r.monthly !== 'number' || !Number.isFinite(r.monthly) || r.monthly < 0))
    out.push({ field: 'monthly', message: 'must be a finite number >= 0' });
  if (r.alertAt !== undefined) {
    if (!Array.isArray(r.alertAt) || r.alertAt.length > MAX_THRESHOLDS)
      out.push({ field: 'alertAt', message: `must be a list of at most ${MAX_THRESHOLDS} numbers` });
    else {
      r.alertAt.forEach((t, i) => {
        if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 10)
          out.push({ field: `alertAt[${i}]`, message: 'must be a number in (0, 10]', index: i });
        else if (i > 0 && typeof r.alertAt === 'object' && !((r.alertAt as number[])[i - 1] < t))
          out.push({
            field: `alertAt[${i}]`,
            message: 'thresholds must be ascending without repeats',
            index: i,
          });
      });
    }
  }
  for (const k of ['hardLimit', 'blockPredictions', 'override'])
    if (r[k] !== undefined && typeof r[k] !== 'boolean') out.push({ field: k, message: 'must be a boolean' });
  if (r.blockPredictions === true && r.hardLimit !== true)
    out.push({
      field: 'blockPredictions',
      message: 'needs hardLimit: true (predictions are blocked at the hard limit)',
    });
  return out;
}

/** A tenant's budget state kept for the predict path: the month and the state computed at `at` (clock ms). */
interface KeptState {
  at: number;
  month: string;
  state: Promise<BudgetState | null>;
  /** The state once `state` has resolved: the predict path then answers without a promise. */
  settled?: { state: BudgetState | null };
}

export class BudgetService {
  /** Per tenant, for the predict path. */
  private readonly states = new Map<string, KeptState>();

  constructor(private readonly deps: BudgetServiceDeps) {}

  /** The current month, remembered until it ends (the predict path asks on every request). */
  private month(now = this.deps.clock.now().getTime()): string {
    if (now >= this.monthFrom && now < this.monthUntil) return this.monthText;
    const d = new Date(now);
    this.monthFrom = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    this.monthUntil = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    this.monthText = monthOf(d);
    return this.monthText;
  }
  private monthFrom = 0;
  private monthUntil = 0;
  private monthText = '';

  /** The budget, its state this month and the thresholds already alerted; 404 when none is set. */
  async get(scope: TenantScope): Promise<BudgetView> {
    const budget = await this.deps.repo.get(scope);
    if (!budget) throw notFound('budget');
    return this.view(scope, budget);
  }

  private async view(scope: TenantScope, budget: Budget): Promise<BudgetView> {
    const month = this.month();
    const [state, alerted] = await Promise.all([
      this.stateOf(scope, budget, month),
      this.deps.repo.alerted(scope, month),
    ]);
    return {
      budget,
      currency: this.deps.currency,
      state: {
        ...state,
        spent: round(state.spent),
        ratio: shownRatio(state.ratio),
        alerted: [...alerted].sort((a, b) => a - b),
      },
    };
  }

  private async stateOf(scope: TenantScope, budget: Budget, month: string): Promise<BudgetState> {
    const { cost } = await this.deps.monthToDate(scope, month);
    const state = budgetState(budget, cost.total, month);
    this.remember(scope.tenantId, month, state);
    return state;
  }

  private remember(tenantId: string, month: string, state: BudgetState | null): void {
    this.states.set(tenantId, {
      at: this.deps.clock.now().getTime(),
      month,
      state: Promise.resolve(state),
      settled: { state },
    });
  }

  /**
   * Sets the budget. `override` is the operator's alone (403 for a tenant key); without it, an override
   * already set for this month is kept. Answers the budget with its state.
   */
  async put(scope: TenantScope, input: BudgetInput): Promise<BudgetView> {
    const problems = budgetProblems(input);
    if (problems.length > 0) throw invalidFields(problems);
    const operator = scope.actor.role === 'operator' || scope.actor.role === 'system';
    if (input.override !== undefined && !operator)
      throw new AppError('forbidden', 'only the operator may override the hard limit', {
        errors: [{ field: 'override', message: 'only the operator key may set it' }],
      });
    const month = this.month();
    const before = await this.deps.repo.get(scope);
    if (input.monthly === undefined) {
      if (!before) throw notFound('budget');
      const { overrideMonth: _o, ...rest } = before;
      return this.put(scope, { ...rest, override: input.override });
    }
    const keptOverride = before?.overrideMonth === month ? month : null;
    const budget: Budget = {
      monthly: input.monthly,
      alertAt: input.alertAt ? [...input.alertAt] : [...DEFAULT_ALERT_AT],
      hardLimit: input.hardLimit ?? false,
      blockPredictions: input.blockPredictions ?? false,
      overrideMonth: input.override === undefined ? keptOverride : input.override ? month : null,
    };
    const saved = await this.deps.repo.put(scope, budget, this.deps.clock.now().toISOString());
    this.states.delete(scope.tenantId);
    const v = await this.view(scope, saved);
    // A lower limit may cross thresholds at once: alert now rather than at the next periodic run.
    await this.evaluateOne(scope, saved).catch((err) =>
      this.deps.warn?.({ tenantId: scope.tenantId, err: String(err) }, 'budget: evaluation failed'),
    );
    return v;
  }

  async delete(scope: TenantScope): Promise<void> {
    if (!(await this.deps.repo.delete(scope))) throw notFound('budget');
    this.remember(scope.tenantId, this.month(), null);
  }

  /**
   * Sends the alerts due: for every tenant with a budget (or the one named), each threshold reached this
   * month and not yet alerted is marked (exactly one caller wins, across replicas) and then alerted once:
   * a `budget` webhook event and an audit entry. Returns how many alerts were sent.
   */
  async evaluate(tenantId?: string): Promise<number> {
    const targets =
      tenantId === undefined
        ? await this.deps.repo.listAll()
        : await (async () => {
            const scope = mintTenantScope(tenantId, SYSTEM);
            const budget = await this.deps.repo.get(scope);
            return budget ? [{ tenantId, budget }] : [];
          })();
    let sent = 0;
    for (const t of targets) {
      try {
        sent += await this.evaluateOne(mintTenantScope(t.tenantId, SYSTEM), t.budget);
      } catch (err) {
        this.deps.warn?.({ tenantId: t.tenantId, err: String(err) }, 'budget: evaluation failed');
      }
    }
    return sent;
  }

  private async evaluateOne(scope: TenantScope, budget: Budget): Promise<number> {
    const month = this.month();
    const [state, alerted] = await Promise.all([
      this.stateOf(scope, budget, month),
      this.deps.repo.alerted(scope, month),
    ]);
    let sent = 0;
    const at = this.deps.clock.now().toISOString();
    for (const threshold of thresholdsToAlert(state, alerted)) {
      if (!(await this.deps.repo.markAlerted(scope, month, threshold, at))) continue;
      sent++;
      const sys = mintTenantScope(scope.tenantId, SYSTEM);
      await this.deps.webhooks.emit(sys, 'budget', {
        data: {
          month,
          threshold,
          spent: round(state.spent),
          limit: state.limit,
          ratio: shownRatio(state.ratio),
          currency: this.deps.currency,
          hardLimit: budget.hardLimit,
          blocks: state.blocks,
        },
      });
      await this.deps.audit.record({
        actor: SYSTEM,
        tenantId: scope.tenantId,
        action: 'budget.alert',
        target: `${month}: ${Math.round(threshold * 100)}% of ${state.limit} ${this.deps.currency}`,
        outcome: 'ok',
      });
    }
    return sent;
  }

  private refused(state: BudgetState): AppError {
    return new AppError(
      'budget_exceeded',
      `the monthly budget (${state.limit} ${this.deps.currency}) is spent for ${state.month}; the hard limit refuses this until next month`,
      {
        extra: {
          month: state.month,
          spent: round(state.spent),
          limit: state.limit,
          currency: this.deps.currency,
        },
      },
    );
  }

  /** Throws 402 `budget_exceeded` when the hard limit refuses new training jobs now (reads the store). */
  async checkTraining(scope: TenantScope): Promise<void> {
    const budget = await this.deps.repo.get(scope);
    if (!budget?.hardLimit) return;
    const state = await this.stateOf(scope, budget, this.month());
    if (state.blocks.training) throw this.refused(state);
  }

  /**
   * The 402 a prediction of this tenant gets now, or undefined. Answers from the tenant's state kept for
   * a few seconds (the predict path must stay fast); a new month is always read afresh.
   */
  predictionBlock(tenantId: string): AppError | undefined | Promise<AppError | undefined> {
    const now = this.deps.clock.now().getTime();
    const month = this.month(now);
    const hit = this.states.get(tenantId);
    const fresh = hit && hit.month === month && now - hit.at < (this.deps.stateTtlMs ?? BUDGET_STATE_TTL_MS);
    // The common case, answered synchronously: a state kept and already read.
    if (fresh && hit.settled) return this.blockOf(hit.settled.state);
    return this.predictionBlockAsync(tenantId, now, month, fresh ? hit : undefined);
  }

  private blockOf(state: BudgetState | null): AppError | undefined {
    return state?.blocks.predictions ? this.refused(state) : undefined;
  }

  private async predictionBlockAsync(
    tenantId: string,
    now: number,
    month: string,
    kept: KeptState | undefined,
  ): Promise<AppError | undefined> {
    const hit = kept ?? this.keepState(tenantId, now, month);
    let state: BudgetState | null;
    try {
      state = await hit.state;
    } catch (err) {
      this.deps.warn?.({ tenantId, err: String(err) }, 'budget: state unknown; prediction allowed');
      return undefined;
    }
    return this.blockOf(state);
  }

  /**
   * Starts reading the tenant's state and keeps it: settled once read, forgotten if the read fails (and no
   * newer read replaced it).
   */
  private keepState(tenantId: string, now: number, month: string): KeptState {
    const scope = mintTenantScope(tenantId, SYSTEM);
    // Only a budget that can block predictions costs a usage read.
    const state = this.deps.repo
      .get(scope)
      .then((b) =>
        !b
          ? null
          : b.hardLimit && b.blockPredictions
            ? this.freshState(scope, b, month)
            : budgetState(b, 0, month),
      );
    const entry: KeptState = { at: now, month, state };
    if (this.states.size >= 10_000) this.states.clear();
    this.states.set(tenantId, entry);
    state.then(
      (settled) => {
        entry.settled = { state: settled };
      },
      () => {
        if (this.states.get(tenantId) === entry) this.states.delete(tenantId);
      },
    );
    return entry;
  }

  private async freshState(scope: TenantScope, budget: Budget, month: string): Promise<BudgetState> {
    const { cost } = await this.deps.monthToDate(scope, month);
    return budgetState(budget, cost.total, month);
  }

  /** Drops the kept state of a tenant (or all): the next prediction reads it again. */
  forget(tenantId?: string): void {
    if (tenantId === undefined) this.states.clear();
    else this.states.delete(tenantId);
  }
}
