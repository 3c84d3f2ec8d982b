// The tenant's monthly budget (docs/budgets.md): read it with its state this month, set it, remove it.
// The operator (a client with a tenant set) may lift the hard limit for the current month.
import type { BudgetPutBody, BudgetViewBody } from '../../api/budget-schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type { BudgetPutBody, BudgetViewBody };

/** A tenant admin key, or the operator key with a tenant set on the client. */
export class BudgetApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** The budget and its state this month (spent, limit, thresholds reached and alerted, what it blocks); 404 when none. */
  get(opts: CallOptions = {}): Promise<BudgetViewBody> {
    return this.#t.request(ROUTES.getBudget, opts);
  }

  /**
   * Sets the budget: `{monthly, alertAt?, hardLimit?, blockPredictions?}`. Operator only: `override: true`
   * lifts the hard limit for the current month (false restores it); `{override}` alone keeps the rest.
   */
  put(body: BudgetPutBody, opts: CallOptions = {}): Promise<BudgetViewBody> {
    return this.#t.request(ROUTES.putBudget, { ...opts, json: body });
  }

  /** Removes the budget: nothing is alerted or refused any more. */
  async delete(opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.deleteBudget, { ...opts, response: 'none' });
  }
}
