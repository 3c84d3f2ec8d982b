// The tenant's monthly budget (docs/budgets.md): a tenant admin (or the operator naming the tenant in
// X-Tenant-Id) reads, sets and removes it; only the operator may lift the hard limit for the month.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { BudgetService } from '../../services/metering/budgets.ts';
import { BudgetPutSchema, BudgetViewSchema } from '../budget-schemas.ts';
import { errorResponses } from './common.ts';

export function budgetRoutes(deps: { budgets: BudgetService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['budget'];
    app.get(
      '/v1/budget',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary: "The tenant's budget and its state this month (404 when none is set)",
          response: { 200: BudgetViewSchema, ...errorResponses },
        },
      },
      async (req) => deps.budgets.get(req.scope!),
    );

    app.put(
      '/v1/budget',
      {
        config: { auth: 'tenantAdmin', audit: 'budget.put' },
        schema: {
          tags,
          summary: 'Set the monthly budget; `override` (operator only) lifts the hard limit for this month',
          body: BudgetPutSchema,
          response: { 200: BudgetViewSchema, ...errorResponses },
        },
      },
      async (req) => {
        req.auditTarget = req.body.override === undefined ? 'budget' : `budget override=${req.body.override}`;
        return deps.budgets.put(req.scope!, req.body);
      },
    );

    app.delete(
      '/v1/budget',
      {
        config: { auth: 'tenantAdmin', audit: 'budget.delete' },
        schema: {
          tags,
          summary: 'Remove the budget (nothing is refused or alerted any more)',
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        req.auditTarget = 'budget';
        await deps.budgets.delete(req.scope!);
        return reply.code(204).send(null);
      },
    );
  };
}
