// Bad input to the shared-model, provenance, advice and tuned-training routes: a clear problem+json
// answer naming the field, no job, version or advice written, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

describe('bad input to the shared, provenance, advice and tuned routes', () => {
  let tp: TestPlatform;
  let t: { id: string; admin: string; predict: string };
  const op = () => tp.adminKey;

  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_MAX_UPLOAD_BYTES: '65536' } });
    t = await tp.tenant('bad-appr', { sharedTraining: true });
    const lines = ['x,y', ...Array.from({ length: 30 }, (_, i) => `${i},${i % 2 ? 'a' : 'b'}`)];
    assert.equal((await tp.upload(t.admin, 'ds', `${lines.join('\n')}\n`)).status, 201);
  });
  after(() => tp.cleanup());

  async function refused(
    res: { status: number; body: any; headers: Record<string, unknown> },
    status: number,
    code: string,
    field?: string,
  ): Promise<void> {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.body.code, code);
    if (field !== undefined) {
      assert.ok(
        res.body.errors?.some((e: { field: string }) => e.field === field),
        `field ${field} named in ${JSON.stringify(res.body.errors)}`,
      );
    }
    assert.equal((await tp.call({ method: 'GET', url: '/healthz' })).status, 200);
    for (const table of ['jobs', 'model_versions', 'advice']) {
      const n = await tp.ts.query(`select count(*) as n from ${table}`);
      assert.equal(Number(n[0].n), 0, `nothing written to ${table}`);
    }
  }

  const train = (json: unknown, key = op()) =>
    tp.call({ method: 'POST', url: '/v1/shared/models/m/train', key, json });
  const imp = (json: unknown, key = op()) =>
    tp.call({ method: 'POST', url: '/v1/shared/models/m/import', key, json });

  test('shared train: missing dataset, bad row cap, bad publish list, unknown field', async () => {
    await refused(await train({ target: 'y' }), 400, 'validation_failed', 'dataset');
    await refused(await train({ dataset: 'ds', target: 'y', maxRowsPerTenant: 5 }), 400, 'validation_failed');
    await refused(await train({ dataset: 'ds', target: 'y', publish: [] }), 400, 'validation_failed');
    await refused(
      await train({ dataset: 'ds', target: 'y', publish: ['Not An Id'] }),
      400,
      'validation_failed',
      'publish',
    );
    await refused(await train({ dataset: 'ds', target: 'y', colour: 'red' }), 400, 'validation_failed');
  });

  test('shared train: no consenting tenant has the dataset → 422 naming it', async () => {
    await refused(await train({ dataset: 'nowhere', target: 'y' }), 422, 'unprocessable', 'dataset');
    await refused(
      await train({ dataset: 'ds', target: 'y', tenants: ['someone-else'] }),
      422,
      'unprocessable',
      'dataset',
    );
  });

  test('shared routes need the operator key', async () => {
    await refused(await train({ dataset: 'ds', target: 'y' }, t.admin), 403, 'forbidden');
    await refused(
      await imp({ onnx: 'AAAA', task: 'binary', inputs: [{ name: 'x' }] }, t.admin),
      403,
      'forbidden',
    );
  });

  test('import: not base64, not ONNX, wrong input width, multiclass without classes, unknown tenant', async () => {
    await refused(
      await imp({ onnx: '%%%', task: 'binary', inputs: [{ name: 'x' }] }),
      400,
      'validation_failed',
      'onnx',
    );
    await refused(
      await imp({
        onnx: Buffer.from('not a model').toString('base64'),
        task: 'binary',
        inputs: [{ name: 'x' }],
      }),
      422,
      'unprocessable',
      'onnx',
    );
    await refused(
      await imp({ onnx: 'AAAA', task: 'multiclass', inputs: [{ name: 'x' }] }),
      400,
      'validation_failed',
      'classes',
    );
    await refused(
      await imp({ onnx: 'AAAA', task: 'binary', inputs: [{ name: 'x' }, { name: 'x' }] }),
      400,
      'validation_failed',
      'inputs[1].name',
    );
    await refused(
      await imp({ onnx: 'AAAA', task: 'binary', inputs: [{ name: 'x' }], publish: ['nobody-here'] }),
      400,
      'validation_failed',
      'publish',
    );
    const onnx = await tinyOnnx();
    await refused(
      await imp({ onnx, task: 'binary', inputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }),
      422,
      'unprocessable',
      'inputs',
    );
  });

  test('import: a body above the upload limit is 413', async () => {
    const big = 'A'.repeat(70_000);
    await refused(await imp({ onnx: big, task: 'binary', inputs: [{ name: 'x' }] }), 413, 'body_too_large');
  });

  test('audience: bad value 400, missing model 404', async () => {
    const r = await tp.call({
      method: 'PUT',
      url: '/v1/shared/models/m/audience',
      key: op(),
      json: { audience: 'some' },
    });
    await refused(r, 400, 'validation_failed');
    const missing = await tp.call({
      method: 'PUT',
      url: '/v1/shared/models/absent/audience',
      key: op(),
      json: { audience: 'all' },
    });
    await refused(missing, 404, 'not_found');
  });

  test('provenance: the operator must name a valid tenant; a predict key may not ask', async () => {
    await refused(
      await tp.call({ method: 'GET', url: '/v1/provenance', key: op() }),
      400,
      'validation_failed',
      'tenant',
    );
    await refused(
      await tp.call({ method: 'GET', url: '/v1/provenance?tenant=BAD%20ID', key: op() }),
      400,
      'validation_failed',
      'tenant',
    );
    await refused(await tp.call({ method: 'GET', url: '/v1/provenance', key: t.predict }), 403, 'forbidden');
  });

  test('advise: missing target, unknown dataset, non-boolean autoPromote', async () => {
    const advise = (json: unknown) =>
      tp.call({ method: 'POST', url: '/v1/models/m/advise', key: t.admin, json });
    await refused(await advise({ dataset: 'ds' }), 400, 'validation_failed');
    await refused(await advise({ dataset: 'nope', target: 'y' }), 404, 'not_found');
    await refused(await advise({ dataset: 'ds', target: 'y', autoPromote: 'yes' }), 400, 'validation_failed');
    await refused(await advise({ dataset: 'ds', target: 'zzz' }), 400, 'validation_failed', 'target');
  });

  test('tuned training: malformed base 400, unknown base 404, base without tuned mode 400', async () => {
    const tr = (json: unknown) => tp.call({ method: 'POST', url: '/v1/models/m/train', key: t.admin, json });
    await refused(
      await tr({ dataset: 'ds', target: 'y', mode: 'tuned', base: 'a@b@c' }),
      400,
      'validation_failed',
      'base',
    );
    await refused(
      await tr({ dataset: 'ds', target: 'y', mode: 'tuned', base: 'absent@3' }),
      404,
      'not_found',
    );
    await refused(await tr({ dataset: 'ds', target: 'y', mode: 'tuned' }), 400, 'validation_failed', 'base');
    await refused(await tr({ dataset: 'ds', target: 'y', base: 'x' }), 400, 'validation_failed', 'base');
  });
});

/** A real two-feature ONNX model from our own exporter, base64. */
async function tinyOnnx(): Promise<string> {
  const { trainModel } = await import('../../../src/ml/train.ts');
  const col = (name: string) => ({
    name,
    type: 'numeric' as const,
    nullable: false,
    missing: 0,
    distinct: 5,
    distinctApprox: false,
    identifying: false,
    identifyingReasons: [],
  });
  const rows = Array.from({ length: 40 }, (_, i) => ({ a: i % 5, b: i % 3, y: i % 2 }));
  const m = trainModel({
    rows,
    schema: { columns: [col('a'), col('b'), { ...col('y'), type: 'integer' as const, distinct: 2 }] },
    target: 'y',
    algorithm: 'gbdt',
    params: { nRounds: 3 },
    seed: 1,
  });
  return Buffer.from(m.onnx as Uint8Array).toString('base64');
}
