// The training pipeline the job system calls: frame → target → split → featurizer (fitted on the
// training rows only) → linear model or gradient-boosted trees → metrics on the validation rows, which
// take no part in fitting. Tuned training starts from a base model: linear models are pulled toward its
// weights (λ by cross-validation on the training rows), trees keep boosting on top of it.
import type { RawCell } from '../core/cells.ts';
import { AppError, invalid } from '../core/errors.ts';
import type { ColumnType, DatasetSchema } from '../core/types.ts';
import { chooseAlgorithm } from './auto.ts';
import {
  type FeaturizerState,
  featureNames,
  fitFeaturizer,
  inputSchema,
  selectRows,
  toDense,
  transform,
} from './featurizer.ts';
import {
  buildFrame,
  type Frame,
  type FrameColumn,
  frameFromColumns,
  inferTask,
  type Target,
  targetOf,
} from './frame.ts';
import { DEFAULT_GBDT_PARAMS, type GbdtParams, type HistogramPool, predictTrees } from './gbdt/index.ts';
import { type Stopping, trainGbdtStopped } from './gbdt/stopping.ts';
import { fitLogistic, fitRidge, type LinearFit } from './linear/index.ts';
import { evaluate, type Metrics } from './metrics.ts';
import { exportOnnx } from './onnx/index.ts';
import { predictLinear, predictModel } from './predict.ts';
import { kFold, trainValidSplit } from './split.ts';
import type { Algorithm, FittedModel, LinearModel, Matrix, Task, TreeEnsemble } from './types.ts';

export const MODEL_FORMAT = 'tenantml.model/1';
/** Fewer labelled rows than this cannot be split into training and validation sensibly. */
export const MIN_TRAIN_ROWS = 10;
/** Grid of λ / n_train for tuned linear training (penalty λ‖w − w_base‖² on the summed loss). */
export const TUNE_LAMBDA_GRID = [0, 0.001, 0.01, 0.1, 1, 10];
/** Folds of the cross-validation that picks λ for tuned linear training. */
export const TUNE_FOLDS = 5;

export type ProgressStage = 'prepare' | 'featurize' | 'train' | 'evaluate' | 'done';
export interface TrainProgress {
  stage: ProgressStage;
  iteration?: number;
  /**
   * Training loss (linear), or for trees the stopping metric on the training rows held out to stop on
   * (null while refitting), at `iteration`, when known.
   */
  loss?: number | null;
}

export interface TrainInput {
  rows?: Record<string, RawCell>[];
  frame?: Frame;
  schema: DatasetSchema;
  target: string;
  task?: Task;
  algorithm?: 'auto' | Algorithm;
  params?: Record<string, unknown>;
  seed: number;
  validFraction?: number;
  dropIdentifying?: boolean;
  /** A previous model: tuned training keeps its featurizer, task and classes. */
  base?: TrainedModel;
  onProgress?: (p: TrainProgress) => void;
  /** Also encode the model as ONNX (default true). */
  onnx?: boolean;
  /** Where tree training builds its histograms (default: inline); the model is the same either way. */
  histogramPool?: HistogramPool;
}

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  task: Task;
  algorithm: Algorithm;
  /** Why this algorithm (the `auto` rule, the request, or the base model). */
  algorithmReason: string;
  /** Effective parameters, defaults filled in. */
  params: Record<string, unknown>;
  classes?: string[];
  target: string;
  /** The features a prediction request may carry, and their types. */
  inputSchema: { name: string; type: ColumnType }[];
  featureNames: string[];
  metrics: Metrics;
  trainRows: number;
  validRows: number;
  seed: number;
  /**
   * Optimiser iterations (linear) or boosting rounds kept (trees; for a tuned run the rounds added to the
   * base), whether the optimiser converged, and for trees how the round count was chosen.
   */
  fit: { iterations: number; converged: boolean; stopping?: Stopping };
  tuned?: { priorLambda?: number; baseRounds?: number };
}

export interface TrainedModel {
  model: FittedModel;
  featurizer: FeaturizerState;
  metrics: Metrics;
  modelJson: ModelJson;
  onnx?: Uint8Array;
  /**
   * Tuned runs only: the base model scored on exactly the validation rows of this run (same metric
   * names as `metrics`), so that base and tuned can be compared on the same held-out rows.
   */
  baseMetrics?: Metrics;
  /**
   * The frame rows held out for validation (ascending): what `metrics` and `baseMetrics` were measured
   * on. Set by `trainModel`; a model loaded from storage has none.
   */
  validIndex?: Int32Array;
  /** The frame rows the model was fitted on (ascending): what a reference profile describes. */
  trainIndex?: Int32Array;
  /** The model's output on `validIndex` (n × C probabilities, or n values): the reference of its predictions. */
  validPredictions?: Float64Array;
}

const FEATURIZER_KEYS = ['maxCategories', 'minFrequency', 'textBits'] as const;
const LINEAR_KEYS = ['C', 'alpha', 'classWeight', 'maxIterations', 'tol'] as const;

interface LinearParams {
  C: number;
  alpha: number;
  classWeight: 'balanced' | Record<string, number> | null;
  maxIterations: number;
  tol: number;
}

function positiveNumber(params: Record<string, unknown>, key: string, dflt: number, integer = false): number {
  const v = params[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw invalid(`params.${key}`, integer ? 'must be a positive integer' : 'must be a positive number');
  }
  return v;
}

function splitParams(
  params: Record<string, unknown>,
  algorithm: Algorithm,
): { featurizer: Record<string, number>; rest: Record<string, unknown> } {
  const featurizer: Record<string, number> = {};
  const rest: Record<string, unknown> = {};
  const allowed = new Set<string>(algorithm === 'linear' ? LINEAR_KEYS : Object.keys(DEFAULT_GBDT_PARAMS));
  for (const [k, v] of Object.entries(params)) {
    if ((FEATURIZER_KEYS as readonly string[]).includes(k)) {
      featurizer[k] = positiveNumber(params, k, 0, true);
    } else if (allowed.has(k)) rest[k] = v;
    else throw invalid(`params.${k}`, `is not a parameter of ${algorithm} models`);
  }
  if (featurizer.textBits !== undefined && featurizer.textBits > 24)
    throw invalid('params.textBits', 'must be at most 24');
  return { featurizer, rest };
}

function linearParams(p: Record<string, unknown>): LinearParams {
  const cw = p.classWeight;
  let classWeight: LinearParams['classWeight'] = null;
  if (cw === 'balanced') classWeight = 'balanced';
  else if (cw !== undefined && cw !== null) {
    if (typeof cw !== 'object' || Array.isArray(cw)) {
      throw invalid('params.classWeight', "must be 'balanced' or an object of class → weight");
    }
    for (const [k, v] of Object.entries(cw)) {
      if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
        throw invalid('params.classWeight', `the weight of class '${k}' must be a number >= 0`);
      }
    }
    classWeight = cw as Record<string, number>;
  }
  return {
    C: positiveNumber(p, 'C', 1),
    alpha: positiveNumber(p, 'alpha', 1),
    classWeight,
    maxIterations: positiveNumber(p, 'maxIterations', 1000, true),
    tol: positiveNumber(p, 'tol', 1e-6),
  };
}

function select<T extends Int32Array | Float64Array>(y: T, rows: Int32Array): T {
  const out = new (y.constructor as { new (n: number): T })(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = y[rows[i]];
  return out;
}

export function trainModel(input: TrainInput): TrainedModel {
  const progress = input.onProgress ?? (() => {});
  progress({ stage: 'prepare' });
  if (!input.rows && !input.frame) throw new Error('trainModel needs rows or a frame');
  const frame = input.frame ?? buildFrame(input.rows ?? [], input.schema);
  const base = input.base;
  const validFraction = input.validFraction ?? 0.2;
  if (!(validFraction > 0 && validFraction < 1)) throw invalid('validFraction', 'must be in (0, 1)');

  // Task and target. A tuned model keeps the base model's task and classes.
  let task: Task;
  if (base) {
    task = base.modelJson.task;
    if (input.task && input.task !== task)
      throw invalid('task', `the base model is ${task}, not ${input.task}`);
  } else task = input.task ?? inferTask(frame, input.target);
  const target: Target = targetOf(frame, input.target, task, base?.modelJson.classes);
  const labelled = target.rows;
  if (labelled.length < MIN_TRAIN_ROWS) {
    throw new AppError('unprocessable', `training needs at least ${MIN_TRAIN_ROWS} labelled rows`, {
      errors: [{ field: 'target', message: `only ${labelled.length} rows have a label` }],
    });
  }
  const nClasses = target.kind === 'classification' ? target.classes.length : 1;

  const { trainRows, validRows } = splitTarget(
    frame,
    input.target,
    task,
    target,
    input.seed,
    validFraction,
    !!base,
  );

  // Algorithm.
  let algorithm: Algorithm;
  let algorithmReason: string;
  if (base) {
    algorithm = base.modelJson.algorithm;
    if (input.algorithm && input.algorithm !== 'auto' && input.algorithm !== algorithm) {
      throw invalid('algorithm', `the base model is ${algorithm}; a tuned model keeps its algorithm`);
    }
    algorithmReason = 'tuned from a base model';
  } else if (!input.algorithm || input.algorithm === 'auto') {
    const identifying = new Set(
      input.dropIdentifying ? input.schema.columns.filter((c) => c.identifying).map((c) => c.name) : [],
    );
    const columns = frame.columns
      .filter((c) => c.name !== input.target && !identifying.has(c.name))
      .map((c) => ({ name: c.name, type: c.type }));
    const choice = chooseAlgorithm({ rows: trainRows.length, columns });
    algorithm = choice.algorithm;
    algorithmReason = `auto: ${choice.reason}`;
  } else {
    algorithm = input.algorithm;
    algorithmReason = 'requested';
  }
  const { featurizer: fParams, rest } = splitParams(input.params ?? {}, algorithm);

  // Featurize: fitted on the training rows only; a tuned model reuses the base featurizer unchanged.
  progress({ stage: 'featurize' });
  const featurizer =
    base?.featurizer ??
    fitFeaturizer(frame, trainRows, {
      mode: algorithm === 'linear' ? 'linear' : 'trees',
      exclude: [input.target],
      dropIdentifying: input.dropIdentifying,
      schema: input.schema,
      ...fParams,
    });
  const Xtrain: Matrix = transform(featurizer, frame, trainRows);
  const Xvalid: Matrix = transform(featurizer, frame, validRows);

  progress({ stage: 'train' });
  let model: FittedModel;
  let pred: Float64Array;
  let effective: Record<string, unknown>;
  let fit: ModelJson['fit'];
  let tuned: ModelJson['tuned'];
  if (algorithm === 'linear') {
    const lp = linearParams(rest);
    const yTrain = select(target.y as Int32Array | Float64Array, trainRows);
    let classWeight: 'balanced' | number[] | null = null;
    if (lp.classWeight === 'balanced') classWeight = 'balanced';
    else if (lp.classWeight && target.kind === 'classification') {
      const given = lp.classWeight;
      for (const c of Object.keys(given)) {
        if (!target.classes.includes(c))
          throw invalid('params.classWeight', `'${c}' is not a class of the target`);
      }
      classWeight = target.classes.map((c) => given[c] ?? 1);
    }
    const fitOnce = (
      prior?: { weights: Float64Array; lambda: number },
      init?: LinearModel,
      data: { X: Matrix; y: Int32Array | Float64Array } = { X: Xtrain, y: yTrain },
    ): LinearFit => {
      const control = {
        tol: lp.tol,
        maxIterations: lp.maxIterations,
        onIteration: (iteration: number, loss: number) => progress({ stage: 'train', iteration, loss }),
        prior,
        init: init ? { weights: init.weights, intercepts: init.intercepts } : undefined,
      };
      return target.kind === 'classification'
        ? fitLogistic(data.X, data.y as Int32Array, nClasses, { ...control, C: lp.C, classWeight })
        : fitRidge(data.X, data.y as Float64Array, { ...control, alpha: lp.alpha });
    };
    let best: LinearFit;
    if (base) {
      if (base.model.kind !== 'linear') throw new Error('a linear base model was expected');
      const baseModel = base.model;
      // Pick λ by k-fold cross-validation on the training rows: the fit that generalises best decides how
      // much of the base to keep. Not on the validation rows, whose score would then be the best of the
      // grid — optimistic beside a tenant-specific run's, and the advisor compares the two on them.
      const k = Math.min(TUNE_FOLDS, trainRows.length);
      const folds = kFold(trainRows.length, k, {
        seed: input.seed,
        strata: target.kind === 'classification' ? (yTrain as Int32Array) : undefined,
      });
      let bestScore = Number.POSITIVE_INFINITY;
      let bestRel = 0;
      for (const rel of TUNE_LAMBDA_GRID) {
        let loss = 0;
        for (const f of folds) {
          const fit = fitOnce({ weights: baseModel.weights, lambda: rel * f.train.length }, baseModel, {
            X: selectRows(Xtrain, f.train),
            y: select(yTrain, f.train),
          });
          const m = evaluate(
            task,
            select(yTrain, f.valid),
            predictLinear(fit.model, selectRows(Xtrain, f.valid)),
            nClasses,
          );
          loss += f.valid.length * (m.task === 'regression' ? m.rmse ** 2 : m.logLoss);
        }
        if (loss < bestScore) {
          bestScore = loss;
          bestRel = rel;
        }
      }
      const bestLambda = bestRel * trainRows.length;
      const chosen = fitOnce({ weights: baseModel.weights, lambda: bestLambda }, baseModel);
      best = chosen as LinearFit;
      tuned = { priorLambda: bestLambda };
    } else best = fitOnce();
    model = best.model;
    fit = { iterations: best.info.iterations, converged: best.info.converged };
    pred = predictLinear(model, Xvalid);
    effective =
      target.kind === 'classification'
        ? { C: lp.C, classWeight: lp.classWeight, maxIterations: lp.maxIterations, tol: lp.tol }
        : { alpha: lp.alpha, maxIterations: lp.maxIterations, tol: lp.tol };
  } else {
    const yTrain = Float64Array.from(select(target.y, trainRows));
    // Trees-mode featurizers already give dense matrices; a linear base's CSR would be densified here.
    const Dtrain = toDense(Xtrain);
    const Dvalid = toDense(Xvalid);
    let init: TreeEnsemble | undefined;
    if (base) {
      if (base.model.kind !== 'gbdt') throw new Error('a tree base model was expected');
      init = base.model;
    }
    // The round count (for a tuned run: how many rounds to add to the base, possibly none) is decided on
    // the training rows alone. Stopping on the validation rows would make the metrics reported on them
    // the best of every round — optimistic beside other candidates the advisor compares on those rows.
    const res = trainGbdtStopped(Dtrain, yTrain, task, nClasses, rest as Partial<GbdtParams>, {
      seed: input.seed,
      init,
      strata: target.kind === 'classification' ? Int32Array.from(yTrain) : undefined,
      onIteration: (iteration, metric) => progress({ stage: 'train', iteration, loss: metric }),
      histogramPool: input.histogramPool,
    });
    model = res.model;
    fit = { iterations: res.stopping.rounds, converged: true, stopping: res.stopping };
    if (base?.model.kind === 'gbdt') tuned = { baseRounds: base.model.trees.length };
    pred = predictTrees(res.model, Dvalid);
    effective = { ...DEFAULT_GBDT_PARAMS, ...rest };
  }

  progress({ stage: 'evaluate' });
  const yValidTrue = select(target.y, validRows);
  const metrics = evaluate(task, yValidTrue, pred, nClasses);
  const baseMetrics = base
    ? evaluate(task, yValidTrue, predictModel(base.model, Xvalid), nClasses)
    : undefined;
  const modelJson: ModelJson = {
    format: MODEL_FORMAT,
    task,
    algorithm,
    algorithmReason,
    params: { ...effective, ...fParams },
    ...(target.kind === 'classification' ? { classes: target.classes } : {}),
    target: input.target,
    inputSchema: inputSchema(featurizer),
    featureNames: featureNames(featurizer),
    metrics,
    trainRows: trainRows.length,
    validRows: validRows.length,
    seed: input.seed,
    fit,
    ...(tuned ? { tuned } : {}),
  };
  const onnx = input.onnx === false ? undefined : exportOnnx(model);
  progress({ stage: 'done' });
  return {
    model,
    featurizer,
    metrics,
    modelJson,
    validIndex: validRows,
    trainIndex: trainRows,
    validPredictions: pred,
    ...(onnx ? { onnx } : {}),
    ...(baseMetrics ? { baseMetrics } : {}),
  };
}

/**
 * A trained (or loaded) model scored on `rows` of `frame` (labelled rows, e.g. another run's validIndex),
 * with the metric names `trainModel` reports: how a champion is measured on a challenger's held-out rows.
 * Labels are read in the model's own class numbering; a row whose class the model does not know is a
 * `validation_failed` on `target` (the message names no label, which is tenant data).
 */
export function evaluateOn(trained: TrainedModel, frame: Frame, rows: Int32Array, target: string): Metrics {
  const { task, classes } = trained.modelJson;
  const col = frame.columns.find((c) => c.name === target);
  if (!col) throw invalid('target', `column '${target}' is not in the frame`);
  // Only the asked rows' labels count: a class seen elsewhere in the frame does not stop the evaluation.
  const values =
    col.kind === 'number' ? select(col.values, rows) : Array.from(rows, (i) => col.values[i] ?? null);
  const sub = frameFromColumns([{ ...col, values } as FrameColumn]);
  let y: Target;
  try {
    y = targetOf(sub, target, task, classes);
  } catch (e) {
    if (e instanceof AppError) throw invalid('target', `the rows hold labels the ${task} model cannot score`);
    throw e;
  }
  if (y.rows.length !== rows.length) throw invalid('target', 'every row evaluated must carry a label');
  const pred = predictModel(trained.model, transform(trained.featurizer, frame, rows));
  return evaluate(task, y.y, pred, y.kind === 'classification' ? y.classes.length : 1);
}

/**
 * The frame rows a run with this seed and validFraction trains on and holds out (labelled rows only,
 * ascending) — the same for tenant-specific and tuned runs on the same data. Lets a caller keep the
 * held-out rows away from anything else it trains, e.g. a shared model pooled from the same data.
 */
export function validationSplit(
  frame: Frame,
  target: string,
  task: Task,
  seed: number,
  validFraction = 0.2,
): { trainRows: Int32Array; validRows: Int32Array } {
  return splitTarget(frame, target, task, targetOf(frame, target, task), seed, validFraction, false);
}

// Split the labelled rows, stratified by class. The strata are the classes as this data alone would
// number them, so a tuned run (which numbers classes as its base does) holds out the very rows a
// tenant-specific run with the same seed holds out: the advisor compares both on them.
function splitTarget(
  frame: Frame,
  name: string,
  task: Task,
  target: Target,
  seed: number,
  validFraction: number,
  tuned: boolean,
): { trainRows: Int32Array; validRows: Int32Array } {
  const labelled = target.rows;
  const strata =
    target.kind === 'classification' ? ownStrata(frame, name, task, target, labelled, tuned) : undefined;
  const split = trainValidSplit(labelled.length, { validFraction, seed, strata });
  return { trainRows: select(labelled, split.train), validRows: select(labelled, split.valid) };
}

/**
 * Class index per labelled row in the data's own numbering (labels sorted as `targetOf` sorts them),
 * whatever numbering `target` uses. Data with a single class is one stratum.
 */
function ownStrata(
  frame: Frame,
  name: string,
  task: Task,
  target: Target,
  labelled: Int32Array,
  base: boolean,
): Int32Array {
  if (target.kind !== 'classification') throw new Error('strata are for classification targets');
  if (!base) return select(target.y, labelled);
  let own: Target;
  try {
    own = targetOf(frame, name, task);
  } catch (e) {
    if (e instanceof AppError) return new Int32Array(labelled.length);
    throw e;
  }
  return select((own.kind === 'classification' ? own : target).y as Int32Array, labelled);
}
