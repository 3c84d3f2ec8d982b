// Dataset use cases: streamed upload into a new immutable, encrypted version; listing; detail with a
// preview; deletion. Quotas are checked before the body is read where possible, and again at the end;
// a failure at any point leaves no version and no artifact behind.
import type { Readable } from 'node:stream';
import type { RawCell } from '../../core/cells.ts';
import type { Clock, Random } from '../../core/clock.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { nameProblem, newId } from '../../core/ids.ts';
import type { TenantScope } from '../../core/scope.ts';
import type { Dataset, DatasetVersion } from '../../core/types.ts';
import type { Store } from '../../store/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import type { Withdrawal } from '../provenance.ts';
import type { TenantService } from '../tenants.ts';
import { type DecodedRows, decodeRows } from './codec.ts';
import { type IngestOutcome, ingestDataset } from './ingest.ts';
import type { DatasetFormat } from './parse.ts';

export const PREVIEW_ROWS = 5;

export interface DatasetDetailData {
  name: string;
  latestVersion: number;
  createdAt: string;
  versions: DatasetVersion[];
  preview: { version: number; columns: string[]; rows: RawCell[][] };
}

export function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) {
    throw new AppError('invalid_name', `dataset name ${problem}`, {
      errors: [{ field: 'name', message: problem }],
    });
  }
}

export class DatasetService {
  constructor(
    private readonly store: Pick<Store, 'datasets'>,
    private readonly tenants: TenantService,
    private readonly artifacts: TenantArtifacts,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Told when a dataset is deleted, so shared models trained on it are tainted and retrained. */
    private readonly onWithdrawal?: (w: Withdrawal) => Promise<unknown>,
    /**
     * Bytes the tenant stores, as the storageBytes quota counts them: datasets, models and prediction logs
     * (services/metering/storage.ts). Default: its datasets only.
     */
    private readonly storageUsed?: (scope: TenantScope) => Promise<number>,
  ) {}

  async upload(
    scope: TenantScope,
    name: string,
    format: DatasetFormat,
    body: Readable,
  ): Promise<DatasetVersion> {
    checkName(name);
    const quotas = await this.tenants.quotasOf(await this.tenants.get(scope.tenantId));
    const [existing, count, usedBytes] = await Promise.all([
      this.store.datasets.get(scope, name),
      this.store.datasets.count(scope),
      this.storageUsed ? this.storageUsed(scope) : this.store.datasets.storedBytes(scope),
    ]);
    if (!existing && count >= quotas.datasets) {
      throw quotaError('datasets', quotas.datasets, count);
    }
    if (usedBytes >= quotas.storageBytes) throw quotaError('storageBytes', quotas.storageBytes, usedBytes);

    const ingest = ingestDataset(body, format, {
      maxRows: quotas.rowsPerDataset,
      maxColumns: quotas.columnsPerDataset,
    });
    const artifact = `datasets/${name}/${newId('dv', this.random)}.rows`;
    let storedBytes: number;
    let outcome: IngestOutcome;
    try {
      // The ingest result rejects first with the parser's own error, so that is the one reported.
      [storedBytes, outcome] = await Promise.all([
        this.artifacts.putStream(scope, artifact, ingest.stream),
        ingest.result,
      ]);
    } catch (err) {
      await this.artifacts.delete(scope, artifact).catch(() => {});
      body.resume?.();
      throw err;
    }
    try {
      if (usedBytes + storedBytes > quotas.storageBytes) {
        throw quotaError('storageBytes', quotas.storageBytes, usedBytes + storedBytes);
      }
      return await this.store.datasets.addVersion(
        scope,
        {
          name,
          rows: outcome.rows,
          schema: outcome.schema,
          sha256: outcome.sha256,
          storedBytes,
          artifact,
          format,
          createdAt: this.clock.now().toISOString(),
          createdBy: scope.actor.keyId,
        },
        { maxDatasets: quotas.datasets },
      );
    } catch (err) {
      await this.artifacts.delete(scope, artifact).catch(() => {});
      throw err;
    }
  }

  list(scope: TenantScope): Promise<Dataset[]> {
    return this.store.datasets.list(scope);
  }

  /** The dataset or 404 — for another tenant's name exactly as for a missing one. */
  async get(scope: TenantScope, name: string): Promise<Dataset> {
    const d = nameProblem(name) ? null : await this.store.datasets.get(scope, name);
    if (!d) throw notFound('dataset');
    return d;
  }

  async version(scope: TenantScope, name: string, version?: number): Promise<DatasetVersion> {
    const d = await this.get(scope, name);
    const v = await this.store.datasets.version(scope, name, version ?? d.latestVersion);
    if (!v) throw notFound('dataset version');
    return v;
  }

  async detail(scope: TenantScope, name: string): Promise<DatasetDetailData> {
    const d = await this.get(scope, name);
    const versions = await this.store.datasets.versions(scope, name);
    const latest = versions.find((v) => v.version === d.latestVersion) ?? versions[versions.length - 1];
    return {
      name: d.name,
      latestVersion: d.latestVersion,
      createdAt: d.createdAt,
      versions,
      preview: { version: latest.version, ...(await this.head(scope, latest, PREVIEW_ROWS)) },
    };
  }

  /** The first rows of a version, reading (and decrypting) only as far as needed. */
  async head(
    scope: TenantScope,
    v: DatasetVersion,
    n: number,
  ): Promise<{ columns: string[]; rows: RawCell[][] }> {
    const stream = await this.artifacts.getStream(scope, v.artifact);
    const decoded = await decodeRows(stream, { columns: v.schema.columns.map((c) => c.name) });
    const rows: RawCell[][] = [];
    try {
      for await (const batch of decoded.rows) {
        for (const r of batch) {
          if (rows.length >= n) break;
          rows.push(r.map((c) => (c === undefined ? null : c)));
        }
        if (rows.length >= n) break;
      }
    } finally {
      stream.destroy();
    }
    return { columns: [...decoded.columns], rows };
  }

  /** Streams every row of a version (training reads through this). */
  async rows(scope: TenantScope, v: DatasetVersion): Promise<DecodedRows> {
    return decodeRows(await this.artifacts.getStream(scope, v.artifact), {
      columns: v.schema.columns.map((c) => c.name),
    });
  }

  async delete(scope: TenantScope, name: string): Promise<void> {
    if (nameProblem(name)) throw notFound('dataset');
    const removed = await this.store.datasets.delete(scope, name);
    if (!removed) throw notFound('dataset');
    await Promise.all(removed.map((v) => this.artifacts.delete(scope, v.artifact)));
    // Shared models trained on it may no longer use it: they are tainted and retrained without it.
    await this.onWithdrawal?.({ tenantId: scope.tenantId, reason: 'dataset-deleted', dataset: name });
  }
}

function quotaError(quota: string, limit: number, used: number): AppError {
  return new AppError('quota_exceeded', `the ${quota} quota (${limit}) would be exceeded`, {
    extra: { quota, limit, used },
  });
}
