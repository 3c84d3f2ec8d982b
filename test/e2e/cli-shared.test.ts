// `tenantml shared …`, `provenance`, `predict` and `models advise|advice`, in-process against the real
// platform on a socket. No worker runs (slots 0): jobs stay queued, so every command answers at once. The
// imported model is real ONNX from the platform's own trainer, so predictions run in ONNX Runtime.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { SYSTEM, sharedScope } from '../../src/core/scope.ts';
import type { ColumnSchema } from '../../src/core/types.ts';
import { trainModel } from '../../src/ml/train.ts';
import { TenantmlClient } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { modelVersionInput } from '../integration/store/fixtures.ts';
import { cliInProcess, leadsCsv, type Run } from './cli-helpers.ts';

let running: TestServer;
let operatorEnv: Record<string, string>;
let acmeEnv: Record<string, string>;
let globexEnv: Record<string, string>;
let onnxFile: string;
let onnxBytes: Uint8Array;

async function run(argv: string[], env: Record<string, string>, stdin?: Readable): Promise<Run> {
  const { code, stdout, stderr } = await cliInProcess(argv, env, { cwd: running.dataDir, stdin });
  return { code, stdout, stderr };
}

const numeric = (name: string): ColumnSchema => ({
  name,
  type: 'numeric',
  nullable: false,
  missing: 0,
  distinct: 10,
  distinctApprox: false,
  identifying: false,
  identifyingReasons: [],
});

/** A linear classifier on two numbers ("yes" when x1 + x2 > 1), exported by the trainer as ONNX. */
function tinyOnnx(): Uint8Array {
  const rows = [];
  for (let i = 0; i < 60; i++) {
    const x1 = (i % 10) / 10;
    const x2 = ((i * 7) % 13) / 13;
    rows.push({ x1, x2, label: x1 + x2 > 1 ? 'yes' : 'no' });
  }
  const trained = trainModel({
    rows,
    schema: { columns: [numeric('x1'), numeric('x2'), { ...numeric('label'), type: 'categorical' }] },
    target: 'label',
    task: 'binary',
    algorithm: 'linear',
    seed: 1,
  });
  assert.deepEqual(trained.modelJson.featureNames, ['x1', 'x2'], 'the ONNX input is [x1, x2]');
  assert.deepEqual(trained.modelJson.classes, ['no', 'yes']);
  assert.ok(trained.onnx);
  return new Uint8Array(trained.onnx); // the trainer hands a Buffer; compare plain bytes
}

before(async () => {
  running = await startTestServer('tenantml-cli-shared-', { TENANTML_WORKER_SLOTS: '0' });
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'acme', name: 'Acme', sharedTraining: true });
  await operator.tenants.create({ id: 'globex', name: 'Globex' });
  const acmeKey = (await operator.keys.create('acme', 'admin')).key;
  const globexKey = (await operator.keys.create('globex', 'predict')).key;
  await operator.withTenant('acme').datasets.upload('leads', leadsCsv(200));
  // A shared version trained on acme's dataset, registered straight into the store (no training runs):
  // what provenance reports for acme.
  await running.platform.store.models.register(
    sharedScope(SYSTEM),
    modelVersionInput('pooled', {
      mode: 'shared',
      datasets: [{ tenantId: 'acme', name: 'leads', version: 1, rows: 200 }],
    }),
  );

  const base = { TENANTML_URL: running.url, TENANTML_DATA_DIR: running.dataDir };
  operatorEnv = base; // the operator key is read from the data folder
  acmeEnv = { ...base, TENANTML_API_KEY: acmeKey };
  globexEnv = { ...base, TENANTML_API_KEY: globexKey };

  onnxBytes = tinyOnnx();
  onnxFile = join(running.dataDir, 'tiny.onnx');
  await writeFile(onnxFile, onnxBytes);
});

after(async () => {
  await running?.close();
});

describe('tenantml shared', () => {
  test('import an ONNX file, publish it to one tenant, list, show, download, provenance', async () => {
    const imp = await run(
      ['shared', 'import', 'base', onnxFile, '--task', 'binary', '--inputs', 'x1,x2', '--classes', 'no,yes'],
      operatorEnv,
    );
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^imported base version 1 \(binary, 2 inputs, sha256 [0-9a-f]{12}\), live$/m);

    const before = await run(['shared', 'list'], operatorEnv);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /^NAME\s+LIVE\s+LATEST\s+VERSIONS\s+AUDIENCE\s+CREATED$/m);
    assert.match(before.stdout, /^base\s+1\s+1\s+1\s+not published\s+\d{4}-/m);

    const pub = await run(['shared', 'publish', 'base', 'acme'], operatorEnv);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, 'base: published to acme\n');

    const listed = await run(['shared', 'list', '--json'], operatorEnv);
    const models = JSON.parse(listed.stdout) as { name: string; audience: unknown }[];
    assert.deepEqual(models.find((m) => m.name === 'base')?.audience, ['acme']);

    const show = await run(['shared', 'show', 'base'], operatorEnv);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^audience:\s+acme$/m);
    assert.match(
      show.stdout,
      /^1\s+yes\s+shared\s+binary\s+onnx\s+-\s+-\s+-\s+\S+\s+\S+\s+[0-9a-f]{12}\s+ok$/m,
    );

    const dl = await run(['shared', 'download', 'base', '1', '-o', 'copy.onnx'], operatorEnv);
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(dl.stdout, new RegExp(`^wrote base@1 \\(${onnxBytes.length} bytes\\) to `));
    assert.deepEqual(new Uint8Array(await readFile(join(running.dataDir, 'copy.onnx'))), onnxBytes);

    const prov = await run(['shared', 'provenance', 'base', '1'], operatorEnv);
    assert.equal(prov.stdout, 'base@1 was trained on no tenant’s data (imported)\n');
    const pooled = await run(['shared', 'provenance', 'pooled', '1'], operatorEnv);
    assert.match(pooled.stdout, /^_shared\s+pooled\s+1\s+shared\s+ok\s+\S+\s+acme\/leads@1\s+200\s+-$/m);

    // A tenant key is not the operator's.
    const refused = await run(['shared', 'list'], acmeEnv);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error forbidden:/m);
  });

  test('publish takes all, or ids separated by spaces or commas, never both', async () => {
    const all = await run(['shared', 'publish', 'pooled', 'all', '--json'], operatorEnv);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(JSON.parse(all.stdout).audience, 'all');
    const some = await run(['shared', 'publish', 'pooled', 'acme,globex'], operatorEnv);
    assert.equal(some.stdout, 'pooled: published to acme, globex\n');
    const both = await run(['shared', 'publish', 'pooled', 'all', 'acme'], operatorEnv);
    assert.equal(both.code, 2);
    const unknown = await run(['shared', 'publish', 'pooled', 'nobody'], operatorEnv);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /audience: tenant 'nobody' does not exist/);
  });

  test('shared train queues a pooled job; shared jobs list and show it', async () => {
    const train = await run(
      [
        'shared',
        'train',
        'churn',
        '--dataset',
        'leads',
        '--target',
        'label',
        '--tenants',
        'acme',
        '--max-rows-per-tenant',
        '100',
        '--publish',
        'all',
        '--json',
      ],
      operatorEnv,
    );
    assert.equal(train.code, 0, train.stderr);
    const job = JSON.parse(train.stdout) as { id: string; state: string; spec: Record<string, unknown> };
    assert.equal(job.state, 'queued');
    assert.equal(job.spec.mode, 'shared');
    assert.deepEqual(job.spec.pool, { maxRowsPerTenant: 100, tenants: ['acme'] });
    assert.equal(job.spec.audience, 'all');

    const list = await run(['shared', 'jobs', 'list'], operatorEnv);
    assert.match(list.stdout, new RegExp(`^${job.id}\\s+churn\\s+queued\\s+leads\\s`, 'm'));
    const show = await run(['shared', 'jobs', 'show', job.id], operatorEnv);
    assert.match(show.stdout, /^mode:\s+shared$/m);
    assert.match(show.stdout, /^state:\s+queued$/m);
    assert.match(show.stdout, /^dataset:\s+leads \(the latest version of each consenting tenant\)$/m);
    assert.match(show.stdout, /^pool:\s+tenants acme; at most 100 rows each$/m);
    assert.match(show.stdout, /^publish to:\s+all tenants$/m);
  });
});

describe('tenantml predict', () => {
  test('a tenant predicts with the shared model published to it: --instances, --file, stdin', async () => {
    const r = await run(
      ['predict', 'base', '--instances', '[{"x1":0.9,"x2":0.8},{"x1":0,"x2":0.1}]'],
      acmeEnv,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^model base version 1 \(shared\), request \S+$/);
    assert.match(lines[1], /^#\s+LABEL\s+P\(no\)\s+P\(yes\)\s+PREDICTION ID$/);
    assert.match(lines[2], /^0\s+yes\s+0\.\d{4}\s+0\.\d{4}\s+\S+\.0$/);
    assert.match(lines[3], /^1\s+no\s+0\.\d{4}\s+0\.\d{4}\s+\S+\.1$/);
    assert.equal(lines.length, 4);

    await writeFile(join(running.dataDir, 'rows.jsonl'), '{"x1":0.9,"x2":0.8}\n\n{"x1":0.05,"x2":0}\n');
    const file = await run(['predict', 'base', '--file', 'rows.jsonl', '--json'], acmeEnv);
    assert.equal(file.code, 0, file.stderr);
    const res = JSON.parse(file.stdout);
    assert.deepEqual(res.model, { name: 'base', version: 1, mode: 'shared' });
    assert.deepEqual(
      res.predictions.map((p: { label: string }) => p.label),
      ['yes', 'no'],
    );

    const piped = await run(['predict', 'base'], acmeEnv, Readable.from(['{"x1":1,', '"x2":1}\n']));
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^0\s+yes\s/m);
  });

  test('a tenant the model is not published to gets not_found; bad input is a usage error', async () => {
    const other = await run(['predict', 'base', '--instances', '{"x1":1,"x2":1}'], globexEnv);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^error not_found:/m);

    const bad = await run(['predict', 'base', '--instances', '[1, 2]'], acmeEnv);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /instance 0 is not a JSON object/);
    const none = await run(['predict', 'base'], acmeEnv);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--instances <json> or --file <path>, or pipe them in/);
  });
});

describe('tenantml provenance', () => {
  test('a tenant admin sees its contributions and the shared models it may use', async () => {
    const r = await run(['provenance'], acmeEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tenant:\s+acme$/m);
    assert.match(
      r.stdout,
      /shared model versions trained on this tenant’s data:\n.*\npooled\s+1\s+ok\s+yes\s+leads@1\s+200$/m,
    );
    assert.match(r.stdout, /^base\s+1\s+-?$/m);
    const json = JSON.parse((await run(['provenance', '--json'], acmeEnv)).stdout);
    assert.deepEqual(json.sharedInUse.map((s: { model: string }) => s.model).sort(), ['base', 'pooled']);
  });

  test('the operator names the tenant with --tenant, and must', async () => {
    const r = await run(['provenance', '--tenant', 'acme'], operatorEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^model versions holding data of tenant acme:$/m);
    assert.match(r.stdout, /^_shared\s+pooled\s+1\s+shared\s+ok\s+yes\s+acme\/leads@1\s+200\s+-$/m);
    const globex = await run(['provenance', '--tenant', 'globex'], operatorEnv);
    assert.match(globex.stdout, /no model version holds this data/);
    const missing = await run(['provenance'], operatorEnv);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error validation_failed:/m);
    assert.match(missing.stderr, /hint: name the tenant with --tenant <id>/);
  });
});

describe('tenantml models advise and advice; train --mode tuned', () => {
  test('advise is accepted with its jobs; advice lists it', async () => {
    const r = await run(['models', 'advise', 'base', '--dataset', 'leads', '--target', 'label'], acmeEnv);
    assert.equal(r.code, 0, r.stderr);
    const id = /^advice:\s+(\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.match(r.stdout, /^state:\s+running$/m);
    assert.match(r.stdout, /^dataset:\s+leads version 1$/m);
    assert.match(r.stdout, /^shared model:\s+base@1$/m);
    // The imported shared model has no parameters to continue from: no tuned candidate.
    assert.match(r.stdout, /^tuned job:\s+none \(the shared model cannot be tuned\)$/m);
    assert.match(r.stderr, /tenantml models advice base/);

    const list = await run(['models', 'advice', 'base'], acmeEnv);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^ID\s+STATE\s+DATASET\s+SHARED\s+RECOMMENDATION\s+PROMOTED\s+CREATED\s+FINISHED$/m,
    );
    assert.match(list.stdout, new RegExp(`^${id}\\s+running\\s+leads@1\\s+base@1\\s+-\\s+-\\s+\\d{4}-`, 'm'));
    const json = JSON.parse((await run(['models', 'advice', 'base', '--json'], acmeEnv)).stdout);
    assert.equal(json[0].id, id);
    assert.equal(json[0].autoPromote, false);
  });

  test('train --mode tuned reaches the server with its base: an imported base is refused by name', async () => {
    const r = await run(
      ['train', 'mine', '--dataset', 'leads', '--target', 'label', '--mode', 'tuned', '--base', 'base@1'],
      acmeEnv,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error unprocessable: .*cannot be tuned/m);
    const missing = await run(
      ['train', 'mine', '--dataset', 'leads', '--target', 'label', '--mode', 'tuned'],
      acmeEnv,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /base.*required for mode 'tuned'/);
  });
});
