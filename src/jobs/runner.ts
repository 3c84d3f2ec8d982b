// What a training child does: read and decrypt its dataset versions itself (streaming, straight into
// columns; a shared job pools several tenants' and de-identifies them), train with the pure learning core
// — from a base model for tuned jobs — report progress, and hand back the artifacts. It touches no
// database: the supervisor owns every other I/O.
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream';
import type { RawCell } from '../core/cells.ts';
import { isAppError } from '../core/errors.ts';
import type { JobProgress, TrainAlgorithm } from '../core/jobs.ts';
import type { ColumnSchema, ColumnType, DatasetSchema } from '../core/types.ts';
import { chooseAlgorithm } from '../ml/auto.ts';
import { encodeFitted, loadTrained } from '../ml/codec.ts';
import { buildProfile } from '../ml/drift/profile.ts';
import {
  type Frame,
  type FrameColumn,
  frameFromColumns,
  getColumn,
  inferTask,
  isNumberType,
  readNumberCell,
  readStringCell,
} from '../ml/frame.ts';
import { DEFAULT_GBDT_PARAMS } from '../ml/gbdt/index.ts';
import { type PooledData, type PoolPart, poolFrames } from '../ml/pool.ts';
import { evaluateOn, type TrainedModel, type TrainProgress, trainModel } from '../ml/train.ts';
import type { Task } from '../ml/types.ts';
import { createHistogramPool } from '../runtime/threads/histogram-pool.ts';
import { decodeRows } from '../services/datasets/codec.ts';
import { decryptStream } from '../store/artifacts/envelope.ts';
import { FsBlobStore } from '../store/artifacts/fs.ts';
import { tenantPath } from '../store/artifacts/ports.ts';
import type {
  BaseArtifacts,
  PoolContribution,
  ProgressMessage,
  ResultMessage,
  StartMessage,
  TestHooks,
  TrainingSource,
} from './protocol.ts';

/** Progress messages are sent at most this often (phase changes always go at once). */
const PROGRESS_EVERY_MS = 200;

export interface RunOptions {
  send(m: ProgressMessage): void;
  /** Called at every progress report of training: the place to notice that the parent is gone. */
  checkpoint(): void;
}

/** A training failure that retrying cannot cure; its message names fields, never data values. */
export class PermanentTrainingError extends Error {}

/** A message safe to store with the job: ids and field names only. */
export function safeMessage(err: unknown): { message: string; permanent: boolean } {
  if (isAppError(err)) {
    return { message: `${err.code}: ${err.message}`, permanent: true };
  }
  if (err instanceof PermanentTrainingError) return { message: err.message, permanent: true };
  if (
    err instanceof Error &&
    (err.name === 'DecryptionError' || /^stored dataset is not valid/.test(err.message))
  )
    return { message: err.message, permanent: false };
  // Other messages (JSON.parse, …) may quote the data: keep the kind of error only.
  const name = err instanceof Error ? err.name : 'Error';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return { message: `${name}${code ? ` ${code}` : ''} while training (details withheld)`, permanent: false };
}

/** Streams one source's encrypted rows into typed columns (no per-row objects), with its tenant's key. */
async function readFrame(source: TrainingSource, blobs: FsBlobStore, key: Buffer): Promise<Frame> {
  const raw = await blobs.get(tenantPath(source.tenantId, source.artifact));
  const plain = pipeline(raw, decryptStream(key, source.tenantId, source.artifact), () => {});
  const schema = source.schema.columns;
  const decoded = await decodeRows(plain, { columns: schema.map((c) => c.name) });
  let capacity = Math.max(1, source.rows);
  const nums: (Float64Array | null)[] = schema.map((c) =>
    isNumberType(c.type) ? new Float64Array(capacity) : null,
  );
  const strs: ((string | null)[] | null)[] = schema.map((c) => (isNumberType(c.type) ? null : []));
  let n = 0;
  for await (const batch of decoded.rows) {
    if (n + batch.length > capacity) {
      capacity = Math.max(capacity * 2, n + batch.length);
      for (let j = 0; j < nums.length; j++) {
        const old = nums[j];
        if (old) {
          const grown = new Float64Array(capacity);
          grown.set(old);
          nums[j] = grown;
        }
      }
    }
    for (const row of batch) {
      for (let j = 0; j < schema.length; j++) {
        const cell: RawCell = row[j] ?? null;
        const num = nums[j];
        if (num) num[n] = readNumberCell(cell, schema[j].type as 'numeric');
        else (strs[j] as (string | null)[]).push(readStringCell(cell));
      }
      n++;
    }
  }
  const columns: FrameColumn[] = schema.map((c: ColumnSchema, j) =>
    isNumberType(c.type)
      ? { kind: 'number', name: c.name, type: c.type, values: (nums[j] as Float64Array).slice(0, n) }
      : {
          kind: 'string',
          name: c.name,
          type: c.type as 'categorical' | 'text',
          values: strs[j] as (string | null)[],
        },
  );
  return frameFromColumns(columns);
}

/** What training sees: the frame and its schema, and for shared jobs what pooling took and removed. */
export interface TrainingFrame {
  frame: Frame;
  schema: DatasetSchema;
  contributions?: PoolContribution[];
  deidentification?: ResultMessage['deidentification'];
}

/**
 * Reads the job's sources into the one frame training runs on. A shared job pools its sources (each read
 * with its own tenant's key): identifying columns dropped, identifying text replaced, rows capped per
 * tenant. Exported so that a test can inspect exactly what a model is trained on.
 */
export async function loadTrainingFrame(msg: StartMessage): Promise<TrainingFrame> {
  const { spec } = msg.job;
  const blobs = new FsBlobStore(msg.blobs.root);
  const read = async (source: TrainingSource): Promise<Frame> => {
    const key = Buffer.from(source.dataKey);
    try {
      return await readFrame(source, blobs, key);
    } finally {
      key.fill(0);
    }
  };
  if (spec.mode !== 'shared') {
    if (msg.sources.length !== 1) throw new Error(`a ${spec.mode} job reads exactly one dataset version`);
    const [source] = msg.sources;
    return { frame: await read(source), schema: source.schema };
  }
  if (msg.sources.length === 0) {
    throw new PermanentTrainingError(
      `no tenant with shared-training consent has a dataset named '${spec.dataset}'`,
    );
  }
  const parts: PoolPart[] = [];
  for (const source of msg.sources) {
    parts.push({
      tenantId: source.tenantId,
      dataset: source.name,
      version: source.version,
      schema: source.schema,
      frame: await read(source),
    });
  }
  let pooled: PooledData;
  try {
    pooled = poolFrames(parts, {
      target: spec.target,
      seed: spec.seed,
      ...(spec.pool?.features ? { features: spec.pool.features } : {}),
      ...(spec.pool?.maxRowsPerTenant !== undefined ? { maxRowsPerTenant: spec.pool.maxRowsPerTenant } : {}),
    });
  } catch (err) {
    // Its refusals name options and columns, never values, and every attempt would meet them again.
    throw new PermanentTrainingError(`the pool options were refused: ${(err as Error).message}`);
  }
  if (pooled.contributions.length === 0) {
    const why = pooled.excluded.map((e) => `${e.tenantId}: ${e.reason}`).join('; ');
    throw new PermanentTrainingError(
      `no consenting tenant's dataset '${spec.dataset}' could be pooled${why ? ` (${why})` : ''}`,
    );
  }
  return {
    frame: pooled.frame,
    schema: pooled.schema,
    contributions: pooled.contributions,
    deidentification: pooled.deidentification,
  };
}

/** A tuned job's base model, rebuilt from its artifacts; a base that cannot be read is a permanent failure. */
function baseModel(msg: StartMessage): TrainedModel {
  if (!msg.base) throw new PermanentTrainingError('a tuned job needs the artifacts of its base model');
  try {
    return loadTrained(msg.base);
  } catch (err) {
    if (isAppError(err)) throw err;
    throw new PermanentTrainingError(
      `the base model's artifacts could not be read (${err instanceof Error ? err.name : 'Error'})`,
    );
  }
}

const finiteOnly = (m: object): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
};

/** What the progress bar shows during training: the rounds the chosen algorithm will run at most. */
function trainingShape(
  msg: StartMessage,
  schema: DatasetSchema,
  nRows: number,
  base: TrainedModel | undefined,
): { totalIterations?: number; metricName: (task?: Task) => string } {
  const { spec } = msg.job;
  let algorithm: TrainAlgorithm = base?.modelJson.algorithm ?? spec.algorithm;
  if (algorithm === 'auto') {
    // The same rule trainModel applies, estimated here only to label the progress.
    const columns = schema.columns
      .filter((c) => c.name !== spec.target)
      .map((c) => ({ name: c.name, type: c.type }));
    algorithm = chooseAlgorithm({ rows: Math.round(nRows * (1 - spec.validFraction)), columns }).algorithm;
  }
  if (algorithm === 'gbdt') {
    const rounds = spec.params.nRounds;
    return {
      totalIterations: typeof rounds === 'number' ? rounds : DEFAULT_GBDT_PARAMS.nRounds,
      metricName: (task) =>
        task === 'regression' ? 'valid_rmse' : task === 'multiclass' ? 'valid_mlogloss' : 'valid_logloss',
    };
  }
  const max = spec.params.maxIterations;
  return { totalIterations: typeof max === 'number' ? max : 1000, metricName: () => 'train_loss' };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
    const d = process.cpuUsage(start);
    if ((d.user + d.system) / 1000 >= ms) break;
  }
  if (x < 0) console.log(x); // keeps the loop from being optimised away
}

function exhaustHeap(): never {
  const keep: number[][] = [];
  for (;;) keep.push(new Array(1_000_000).fill(keep.length));
}

/** Trains the job of `msg`; returns the result message (without the CPU report, which the caller adds). */
export async function runTraining(msg: StartMessage, opts: RunOptions): Promise<Omit<ResultMessage, 'cpu'>> {
  const { spec } = msg.job;
  const params = { ...spec.params };
  const hooks = (msg.testHooks ? params.__test : undefined) as TestHooks | undefined;
  delete params.__test;

  let lastSent = 0;
  let lastPhase: JobProgress['phase'] | null = null;
  const report = (p: Omit<JobProgress, 'at'>, force = false): void => {
    const now = Date.now();
    if (!force && p.phase === lastPhase && now - lastSent < PROGRESS_EVERY_MS) return;
    lastSent = now;
    lastPhase = p.phase;
    opts.send({ type: 'progress', progress: { ...p, at: new Date(now).toISOString() } });
  };

  report({ phase: 'loading' }, true);
  if (hooks?.exitCode !== undefined) process.exit(hooks.exitCode);
  if (hooks?.burnCpuMs) burnCpu(hooks.burnCpuMs);
  if (hooks?.exhaustHeap) exhaustHeap();

  // Trees build their histograms on two threads; the worker starts while the dataset is read. A
  // worker that cannot start only costs speed: training then builds inline.
  // A tuned model keeps its base's algorithm, whatever the spec says.
  const base = spec.mode === 'tuned' ? baseModel(msg) : undefined;
  const poolStart =
    (base?.modelJson.algorithm ?? spec.algorithm) === 'linear'
      ? Promise.resolve(null)
      : createHistogramPool({ threads: Math.min(2, availableParallelism()) }).catch(() => null);
  let loaded: TrainingFrame;
  try {
    loaded = await loadTrainingFrame(msg);
  } catch (err) {
    await (await poolStart)?.close();
    throw err;
  }
  const { frame, schema } = loaded;
  const pool = await poolStart;

  const shape = trainingShape(msg, schema, frame.nRows, base);
  let task: Task | undefined = spec.task;
  try {
    // Only to name the progress metric; trainModel decides.
    task ??= base?.modelJson.task ?? inferTask(frame, spec.target);
  } catch {
    // trainModel reports the problem with the target
  }
  let firstIter: { iteration: number; at: number } | null = null;
  const onProgress = (p: TrainProgress): void => {
    opts.checkpoint();
    if (p.stage === 'prepare' || p.stage === 'featurize') report({ phase: 'featurizing' });
    else if (p.stage === 'evaluate') report({ phase: 'evaluating' }, true);
    else if (p.stage === 'done') report({ phase: 'exporting' }, true);
    else {
      const now = Date.now();
      const iteration = p.iteration;
      let etaSeconds: number | undefined;
      if (iteration !== undefined) {
        if (!firstIter) firstIter = { iteration, at: now };
        const done = iteration - firstIter.iteration;
        if (done > 0 && shape.totalIterations !== undefined) {
          const perIteration = (now - firstIter.at) / 1000 / done;
          etaSeconds = Math.max(0, Math.round((shape.totalIterations - iteration) * perIteration * 10) / 10);
        }
      }
      const metric =
        typeof p.loss === 'number' && Number.isFinite(p.loss)
          ? { name: shape.metricName(task), value: p.loss }
          : undefined;
      report({
        phase: 'training',
        ...(iteration !== undefined ? { iteration } : {}),
        ...(shape.totalIterations !== undefined ? { totalIterations: shape.totalIterations } : {}),
        ...(metric ? { metric } : {}),
        ...(etaSeconds !== undefined ? { etaSeconds } : {}),
      });
      if (hooks?.sleepPerIterationMs) sleepSync(hooks.sleepPerIterationMs);
    }
  };

  let trained: ReturnType<typeof trainModel>;
  try {
    trained = trainModel({
      frame,
      schema,
      target: spec.target,
      task: spec.task,
      algorithm: spec.algorithm,
      params,
      seed: spec.seed,
      validFraction: spec.validFraction,
      onProgress,
      // Pooled data has had its identifying columns removed already; this keeps it so for the featurizer.
      ...(spec.mode === 'shared' ? { dropIdentifying: true } : {}),
      ...(base ? { base } : {}),
      ...(pool ? { histogramPool: pool } : {}),
    });
  } finally {
    await pool?.close();
  }
  if (!trained.onnx) throw new PermanentTrainingError('the model could not be exported to ONNX');
  const champion = msg.champion ? championMetrics(msg, frame, trained) : undefined;
  const profile = referenceProfile(frame, trained, spec.seed);
  return {
    type: 'result',
    onnx: trained.onnx,
    featurizerJson: JSON.stringify(trained.featurizer),
    modelJson: JSON.stringify(trained.modelJson),
    fittedJson: encodeFitted(trained.model),
    task: trained.modelJson.task,
    algorithm: trained.modelJson.algorithm,
    params: trained.modelJson.params,
    metrics: finiteOnly(trained.metrics),
    ...(loaded.contributions ? { contributions: loaded.contributions } : {}),
    ...(loaded.deidentification ? { deidentification: loaded.deidentification } : {}),
    ...(trained.baseMetrics ? { baseMetrics: finiteOnly(trained.baseMetrics) } : {}),
    ...(champion && 'metrics' in champion ? { championMetrics: champion.metrics } : {}),
    ...(champion && 'skipped' in champion ? { championSkipped: champion.skipped } : {}),
    ...('json' in profile ? { profileJson: profile.json } : { profileSkipped: profile.skipped }),
    profileMs: profile.ms,
  };
}

/**
 * A challenger's champion, rebuilt from its artifacts and scored on exactly this run's validation rows.
 * Any problem leaves the job training on without the comparison; the reason names no data value.
 */
function championMetrics(
  msg: StartMessage,
  frame: Frame,
  trained: TrainedModel,
): { metrics: Record<string, number> } | { skipped: string } {
  const { spec } = msg.job;
  const ref = spec.champion ? `${spec.champion.model}@${spec.champion.version}` : 'the champion';
  let champion: TrainedModel;
  try {
    champion = loadTrained(msg.champion as BaseArtifacts);
  } catch (err) {
    return { skipped: `${ref}'s artifacts could not be read (${err instanceof Error ? err.name : 'Error'})` };
  }
  const { task, target } = champion.modelJson;
  if (task !== trained.modelJson.task)
    return { skipped: `${ref} is a ${task} model; this job trained a ${trained.modelJson.task} one` };
  if (target !== spec.target) return { skipped: `${ref} predicts '${target}', not '${spec.target}'` };
  if (!trained.validIndex) return { skipped: 'the run kept no validation rows' };
  try {
    return { metrics: finiteOnly(evaluateOn(champion, frame, trained.validIndex, spec.target)) };
  } catch (err) {
    // evaluateOn's refusals name fields only; anything else may quote data, so only its kind is kept.
    const why = isAppError(err) ? err.message : `${err instanceof Error ? err.name : 'Error'}`;
    return { skipped: `${ref} could not be evaluated on the validation rows (${why})` };
  }
}

/**
 * A tuned model's features are its base's; a column this tenant's data lacks reaches the model as
 * missing in every row, and so it is profiled: an all-missing column stands in for it.
 */
function withEveryFeature(frame: Frame, features: { name: string; type: ColumnType }[]): Frame {
  const absent = features.filter((f) => !getColumn(frame, f.name));
  if (absent.length === 0) return frame;
  const n = frame.nRows;
  const filler = absent.map(
    (f): FrameColumn =>
      isNumberType(f.type)
        ? { kind: 'number', name: f.name, type: f.type, values: new Float64Array(n).fill(Number.NaN) }
        : {
            kind: 'string',
            name: f.name,
            type: f.type as 'categorical' | 'text',
            values: new Array<string | null>(n).fill(null),
          },
  );
  return frameFromColumns([...frame.columns, ...filler]);
}

/**
 * profile.json: the training rows' features as the model reads them (its input schema) and its own
 * predictions on the validation rows. A failure costs monitoring its reference, never the model.
 */
function referenceProfile(
  frame: Frame,
  trained: TrainedModel,
  seed: number,
): ({ json: string } | { skipped: string }) & { ms: number } {
  const started = performance.now();
  const ms = (): number => Math.round((performance.now() - started) * 10) / 10;
  const { modelJson, trainIndex, validIndex, validPredictions } = trained;
  if (!trainIndex || !validIndex || !validPredictions)
    return { skipped: 'the run kept no row split', ms: ms() };
  try {
    const profile = buildProfile({
      frame: withEveryFeature(frame, modelJson.inputSchema),
      features: modelJson.inputSchema,
      rows: trainIndex,
      task: modelJson.task,
      ...(modelJson.classes ? { classes: modelJson.classes } : {}),
      predictions: validPredictions,
      predRows: validIndex.length,
      seed,
    });
    return { json: JSON.stringify(profile), ms: ms() };
  } catch (err) {
    return {
      skipped: `the profile could not be built (${err instanceof Error ? err.name : 'Error'})`,
      ms: ms(),
    };
  }
}
