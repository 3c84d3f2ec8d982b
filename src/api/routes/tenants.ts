// Operator routes: tenants and their API keys.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { mintTenantScope } from '../../core/scope.ts';
import type { Quotas } from '../../core/tiers.ts';
import type { ApiKeyRecord, Tenant } from '../../core/types.ts';
import { actorOf } from '../auth.ts';
import type { ApiDeps } from '../context.ts';
import {
  KeyCreatedSchema,
  KeyCreateSchema,
  type KeyInfo,
  KeyInfoSchema,
  KeyParams,
  TenantCreateSchema,
  TenantDetailSchema,
  TenantIdParams,
  TenantPatchSchema,
  TenantSchema,
  type TenantView,
} from '../schemas.ts';
import { errorResponses } from './common.ts';

/** The tenant with the quotas in force (tier defaults, the operator's tier edits, its overrides). */
export function tenantView(t: Tenant, quotas: Quotas): TenantView {
  return { ...t, quotas };
}

const keyView = (k: ApiKeyRecord): KeyInfo => ({
  id: k.id,
  tenantId: k.tenantId,
  role: k.role,
  createdAt: k.createdAt,
  createdBy: k.createdBy,
  revokedAt: k.revokedAt,
  lastUsedAt: k.lastUsedAt,
});

export function tenantRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['tenants'];
    app.post(
      '/v1/tenants',
      {
        config: { auth: 'operator', audit: 'tenant.create' },
        schema: { tags, body: TenantCreateSchema, response: { 201: TenantSchema, ...errorResponses } },
      },
      async (req, reply) => {
        if (req.body.id) req.auditTarget = req.body.id;
        const t = await deps.tenants.create(req.body, actorOf(req.principal!));
        req.auditTarget = t.id;
        return reply.code(201).send(tenantView(t, await deps.tenants.quotasOf(t)));
      },
    );

    app.get(
      '/v1/tenants',
      {
        config: { auth: 'operator' },
        schema: {
          tags,
          response: { 200: Type.Object({ tenants: Type.Array(TenantSchema) }), ...errorResponses },
        },
      },
      async () => {
        const list = await deps.tenants.list();
        return {
          tenants: await Promise.all(list.map(async (t) => tenantView(t, await deps.tenants.quotasOf(t)))),
        };
      },
    );

    app.get(
      '/v1/tenants/:id',
      {
        config: { auth: 'operator' },
        schema: { tags, params: TenantIdParams, response: { 200: TenantDetailSchema, ...errorResponses } },
      },
      async (req) => {
        const t = await deps.tenants.get(req.params.id);
        const consentHistory = (await deps.tenants.consentHistory(t.id, actorOf(req.principal!))).map(
          (c) => ({
            sharedTraining: c.sharedTraining,
            changedBy: c.changedBy,
            changedAt: c.changedAt,
          }),
        );
        return { ...tenantView(t, await deps.tenants.quotasOf(t)), consentHistory };
      },
    );

    app.patch(
      '/v1/tenants/:id',
      {
        config: { auth: 'operator', audit: 'tenant.update' },
        schema: {
          tags,
          params: TenantIdParams,
          body: TenantPatchSchema,
          response: { 200: TenantSchema, ...errorResponses },
        },
      },
      async (req) => {
        const t = await deps.tenants.update(req.params.id, req.body, actorOf(req.principal!));
        req.auditTenant = t.id;
        return tenantView(t, await deps.tenants.quotasOf(t));
      },
    );

    app.delete(
      '/v1/tenants/:id',
      {
        config: { auth: 'operator', audit: 'tenant.delete' },
        schema: { tags, params: TenantIdParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (req, reply) => {
        await deps.tenants.delete(req.params.id);
        deps.auth.forget(req.params.id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/v1/tenants/:id/keys',
      {
        config: { auth: 'operator', audit: 'key.create' },
        schema: {
          tags: ['keys'],
          params: TenantIdParams,
          body: KeyCreateSchema,
          response: { 201: KeyCreatedSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        const t = await deps.tenants.get(req.params.id);
        req.auditTenant = t.id;
        const { record, key } = await deps.auth.createKey(
          mintTenantScope(t.id, actorOf(req.principal!)),
          req.body.role,
        );
        req.auditTarget = record.id;
        return reply
          .code(201)
          .send({ id: record.id, key, tenantId: t.id, role: record.role, createdAt: record.createdAt });
      },
    );

    app.get(
      '/v1/tenants/:id/keys',
      {
        config: { auth: 'operator' },
        schema: {
          tags: ['keys'],
          params: TenantIdParams,
          response: { 200: Type.Object({ keys: Type.Array(KeyInfoSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        const t = await deps.tenants.get(req.params.id);
        const keys = await deps.auth.listKeys(mintTenantScope(t.id, actorOf(req.principal!)));
        return { keys: keys.map(keyView) };
      },
    );

    app.delete(
      '/v1/tenants/:id/keys/:keyId',
      {
        config: { auth: 'operator', audit: 'key.revoke' },
        schema: { tags: ['keys'], params: KeyParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (req, reply) => {
        const t = await deps.tenants.get(req.params.id);
        req.auditTenant = t.id;
        await deps.auth.revokeKey(mintTenantScope(t.id, actorOf(req.principal!)), req.params.keyId);
        return reply.code(204).send(null);
      },
    );
  };
}
