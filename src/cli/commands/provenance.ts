// `tenantml provenance`: which model versions hold a tenant's data. A tenant admin sees its own
// contributions to shared models and the shared models it may use; the operator names the tenant with
// --tenant and sees every version, shared or tuned, holding that tenant's data.
import type { Command } from 'commander';
import type { ProvenanceRecordView, TenantProvenanceView } from '../../api/schemas.ts';
import { isTenantProvenance, type TenantDataHolders } from '../../sdk/resources/provenance.ts';
import { emit, record, table } from '../output.ts';
import { type CommandContext, clientOf, wantsJson } from './shared.ts';

const ref = (r: { model: string; version: number }) => `${r.model}@${r.version}`;

/** One row per model version and source dataset version (the operator's view, and `shared provenance`). */
export function provenanceTable(records: readonly ProvenanceRecordView[]): string {
  if (records.length === 0) return 'no model version holds this data\n';
  return table(
    ['NAMESPACE', 'MODEL', 'VERSION', 'MODE', 'STATUS', 'LIVE', 'SOURCE', 'ROWS', 'VIA'],
    records.map((p) => [
      p.tenantId,
      p.model,
      p.version,
      p.mode,
      p.status,
      p.live,
      `${p.source.tenantId}/${p.source.dataset}@${p.source.version}`,
      p.source.rows,
      p.via ? ref(p.via) : '',
    ]),
  );
}

function holdersText(h: TenantDataHolders): string {
  return `model versions holding data of tenant ${h.tenant}:\n${provenanceTable(h.versions)}`;
}

function ownText(p: TenantProvenanceView): string {
  let out = record([
    ['tenant', p.tenantId],
    ['tuned elsewhere', `${p.tunedElsewhere} tuned model(s) of other tenants build on these versions`],
  ]);
  out += '\nshared model versions trained on this tenant’s data:\n';
  out +=
    p.contributions.length === 0
      ? 'none\n'
      : table(
          ['MODEL', 'VERSION', 'STATUS', 'LIVE', 'DATASET', 'ROWS'],
          p.contributions.map((c) => [
            c.model,
            c.version,
            c.status,
            c.live,
            `${c.dataset}@${c.datasetVersion}`,
            c.rows,
          ]),
        );
  out += '\nshared models published to this tenant:\n';
  out +=
    p.sharedInUse.length === 0
      ? 'none\n'
      : table(
          ['MODEL', 'LIVE VERSION', 'TUNED BY THIS TENANT'],
          p.sharedInUse.map((s) => [s.model, s.liveVersion ?? 'none', s.tunedBy.map(ref).join(', ')]),
        );
  return out;
}

export function registerProvenance(program: Command, ctx: CommandContext): void {
  program
    .command('provenance')
    .description(
      'which model versions hold a tenant’s data: a tenant admin’s own view, or (operator) the tenant named by --tenant',
    )
    .action(async (_opts, cmd: Command) => {
      const client = clientOf(ctx, cmd);
      // The operator names the tenant in the query; a tenant key's answer is always its own.
      const res = await client.provenance.get(ctx.settings?.tenantId);
      emit(ctx.io, wantsJson(cmd), res, () => (isTenantProvenance(res) ? ownText(res) : holdersText(res)));
    });
}
