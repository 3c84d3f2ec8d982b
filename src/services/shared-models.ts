// Shared models (operator): imported pretrained ONNX models and models trained on pooled data, both in
// the shared namespace, published to every tenant or to a list of them. Tenants never read their
// artifacts or parameters; the operator may download them.
import { createHash } from 'node:crypto';
import type { Clock, Random } from '../core/clock.ts';
import { AppError, type FieldError, invalid, invalidFields, notFound } from '../core/errors.ts';
import { isTenantId, nameProblem, newId } from '../core/ids.ts';
import type { Audience } from '../core/jobs.ts';
import { sharedScope, type TenantScope } from '../core/scope.ts';
import { MODEL_FORMAT } from '../ml/train.ts';
import { probeOnnx } from '../runtime/probe.ts';
import type { ModelSummary, ModelVersion, Store } from '../store/ports.ts';
import type { TenantArtifacts } from './artifacts.ts';

export interface ImportRequest {
  /** The ONNX model, base64. */
  onnx: string;
  task: 'binary' | 'multiclass' | 'regression';
  /** The model's input columns, in the order of the input tensor's second axis. */
  inputs: { name: string }[];
  /** Classifiers: class names in the order of the probabilities output. */
  classes?: string[];
  /** Input tensor name (default: the model's only input). */
  input?: string;
  outputs?: { label?: string; probabilities?: string; value?: string };
  publish?: Audience;
  /** Free-form description of where the model comes from. */
  source?: string;
}

export interface SharedModelsDeps {
  store: Pick<Store, 'models' | 'tenants'>;
  artifacts: Pick<TenantArtifacts, 'put' | 'get'>;
  clock: Clock;
  random: Random;
}

const TASKS = ['binary', 'multiclass', 'regression'] as const;

export class SharedModelsService {
  constructor(private readonly deps: SharedModelsDeps) {}

  list(actor: TenantScope): Promise<ModelSummary[]> {
    return this.deps.store.models.list(sharedScope(actor.actor));
  }

  /** Publishes the model to every tenant or to the listed ones (replacing the previous audience). */
  async publish(actor: TenantScope, name: string, audience: unknown): Promise<ModelSummary> {
    const problem = audienceProblem(audience);
    if (problem) throw invalid('audience', problem);
    if (nameProblem(name)) throw notFound('shared model');
    if (Array.isArray(audience)) await this.mustExist(audience as string[], 'audience');
    return this.deps.store.models.setAudience(sharedScope(actor.actor), name, audience as Audience);
  }

  /** The ONNX bytes of a version (operator only: the route says so). */
  async artifact(actor: TenantScope, name: string, version: number): Promise<Buffer> {
    const scope = sharedScope(actor.actor);
    const v = nameProblem(name) ? null : await this.deps.store.models.version(scope, name, version);
    if (!v) throw notFound('shared model version');
    return this.deps.artifacts.get(scope, `${v.artifact}/model.onnx`);
  }

  async import(actor: TenantScope, name: string, req: ImportRequest): Promise<ModelVersion> {
    const errors = importErrors(name, req);
    if (errors.length > 0) throw invalidFields(errors);
    const bytes = Buffer.from(req.onnx, 'base64');
    if (bytes.length === 0) throw invalid('onnx', 'must be a base64 ONNX model');
    if (Array.isArray(req.publish)) await this.mustExist(req.publish, 'publish');
    let probed: Awaited<ReturnType<typeof probeOnnx>>;
    try {
      probed = await probeOnnx(bytes, {
        ...(req.input ? { input: req.input } : {}),
        features: req.inputs.length,
        task: req.task,
        ...(req.classes ? { classes: req.classes } : {}),
        outputs: req.outputs ?? {},
      });
    } catch (e) {
      const fe = e as FieldError;
      if (typeof fe?.field === 'string')
        throw new AppError('unprocessable', `${fe.field}: ${fe.message}`, { errors: [fe] });
      throw e;
    }
    const scope = sharedScope(actor.actor);
    const prefix = `models/${name}/${newId('imp', this.deps.random)}`;
    const modelJson = {
      format: MODEL_FORMAT,
      task: req.task,
      algorithm: 'onnx',
      algorithmReason: 'imported',
      params: {},
      ...(req.classes ? { classes: req.classes } : req.task === 'binary' ? { classes: ['0', '1'] } : {}),
      inputSchema: req.inputs.map((i) => ({ name: i.name, type: 'numeric' })),
      featureNames: req.inputs.map((i) => i.name),
      imported: {
        input: probed.input,
        outputs: probed.outputs,
        ...(req.source ? { source: req.source } : {}),
      },
    };
    await this.deps.artifacts.put(scope, `${prefix}/model.onnx`, bytes);
    await this.deps.artifacts.put(scope, `${prefix}/model.json`, Buffer.from(JSON.stringify(modelJson)));
    const at = this.deps.clock.now().toISOString();
    const v = await this.deps.store.models.register(scope, {
      model: name,
      mode: 'shared',
      task: req.task,
      algorithm: 'onnx',
      params: {},
      metrics: {},
      datasets: [],
      artifact: prefix,
      checksum: createHash('sha256').update(bytes).digest('hex'),
      jobId: null,
      base: null,
      createdAt: at,
      createdBy: actor.actor.keyId,
    });
    if (req.publish !== undefined && v.version === 1)
      await this.deps.store.models.setAudience(scope, name, req.publish);
    return v;
  }

  private async mustExist(ids: string[], field: string): Promise<void> {
    for (const id of ids) {
      if (!(await this.deps.store.tenants.get(id))) throw invalid(field, `tenant '${id}' does not exist`);
    }
  }
}

export function audienceProblem(a: unknown): string | null {
  if (a === 'all') return null;
  if (!Array.isArray(a) || a.length === 0 || a.length > 100_000)
    return "must be 'all' or a non-empty list of tenant ids";
  const bad = a.find((x) => typeof x !== 'string' || !isTenantId(x));
  return bad === undefined ? null : `${JSON.stringify(bad)} is not a tenant id`;
}

function importErrors(name: string, r: ImportRequest): FieldError[] {
  const errors: FieldError[] = [];
  const problem = nameProblem(name);
  if (problem) errors.push({ field: 'model', message: problem });
  if (typeof r !== 'object' || r === null)
    return [...errors, { field: 'body', message: 'must be an object' }];
  if (typeof r.onnx !== 'string' || r.onnx.length === 0 || !/^[A-Za-z0-9+/=\s]+$/.test(r.onnx))
    errors.push({ field: 'onnx', message: 'must be the model as base64' });
  if (!TASKS.includes(r.task)) errors.push({ field: 'task', message: `must be one of ${TASKS.join(', ')}` });
  if (!Array.isArray(r.inputs) || r.inputs.length === 0 || r.inputs.length > 100_000)
    errors.push({ field: 'inputs', message: 'must list the input columns: [{name}]' });
  else {
    const seen = new Set<string>();
    r.inputs.forEach((i, k) => {
      if (typeof i?.name !== 'string' || i.name.length === 0 || i.name.length > 200)
        errors.push({ field: `inputs[${k}].name`, message: 'must be a column name' });
      else if (seen.has(i.name))
        errors.push({ field: `inputs[${k}].name`, message: `'${i.name}' is listed twice` });
      else seen.add(i.name);
    });
  }
  if (r.classes !== undefined) {
    if (r.task === 'regression')
      errors.push({ field: 'classes', message: 'a regression model has no classes' });
    else if (
      !Array.isArray(r.classes) ||
      r.classes.some((c) => typeof c !== 'string') ||
      new Set(r.classes).size !== r.classes.length
    )
      errors.push({ field: 'classes', message: 'must be distinct class names' });
    else if (r.task === 'binary' && r.classes.length !== 2)
      errors.push({ field: 'classes', message: 'binary needs 2 classes' });
  } else if (r.task === 'multiclass')
    errors.push({ field: 'classes', message: 'is required for multiclass models' });
  if (r.publish !== undefined) {
    const p = audienceProblem(r.publish);
    if (p) errors.push({ field: 'publish', message: p });
  }
  return errors;
}
