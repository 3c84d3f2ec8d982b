import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFitted, encodeFitted, FITTED_FORMAT, loadTrained } from '../../../src/ml/codec.ts';
import { transform } from '../../../src/ml/featurizer.ts';
import { buildFrame } from '../../../src/ml/frame.ts';
import { predictModel } from '../../../src/ml/predict.ts';
import { type TrainedModel, trainModel } from '../../../src/ml/train.ts';
import type { LinearModel } from '../../../src/ml/types.ts';
import { type Kind, rowsOf, schemaOf } from './tuned-data.ts';

const KINDS: Kind[] = ['binary', 'multiclass', 'regression'];

function train(kind: Kind, algorithm: 'linear' | 'gbdt'): TrainedModel {
  return trainModel({
    rows: rowsOf(kind, 400, 11),
    schema: schemaOf(kind),
    target: 'label',
    task: kind,
    algorithm,
    seed: 3,
    onnx: false,
    params: algorithm === 'gbdt' ? { nRounds: 15 } : {},
  });
}

const stored = (t: TrainedModel) => ({
  fitted: encodeFitted(t.model),
  featurizer: JSON.stringify(t.featurizer),
  model: JSON.stringify(t.modelJson),
});

describe('encodeFitted / decodeFitted', () => {
  for (const algorithm of ['linear', 'gbdt'] as const) {
    for (const kind of KINDS) {
      test(`${algorithm} ${kind}: identical parameters and predictions after a round trip`, () => {
        const t = train(kind, algorithm);
        const s = encodeFitted(t.model);
        assert.equal(JSON.parse(s).format, FITTED_FORMAT);
        const back = decodeFitted(s);
        assert.deepEqual(back, t.model);
        const frame = buildFrame(rowsOf(kind, 200, 99), schemaOf(kind));
        const X = transform(t.featurizer, frame);
        assert.deepEqual(predictModel(back, X), predictModel(t.model, X));
        // Encoding is a function of the parameters: the same bytes again.
        assert.equal(encodeFitted(back), s);
      });
    }
  }

  test('typed arrays are base64 of their little-endian bytes', () => {
    const m: LinearModel = {
      kind: 'linear',
      task: 'regression',
      nFeatures: 1,
      nOutputs: 1,
      weights: Float64Array.of(1),
      intercepts: Float64Array.of(-2),
    };
    const j = JSON.parse(encodeFitted(m));
    // 1.0 is 3ff0000000000000; little-endian puts 00 … f0 3f.
    assert.deepEqual(j.weights, { dtype: 'f64', length: 1, base64: 'AAAAAAAA8D8=' });
    assert.deepEqual(j.intercepts, { dtype: 'f64', length: 1, base64: 'AAAAAAAAAMA=' });
  });

  test('garbage is refused with a clear error', () => {
    const good = JSON.parse(encodeFitted(train('binary', 'gbdt').model));
    const bad = (patch: (j: Record<string, unknown>) => void): string => {
      const j = structuredClone(good);
      patch(j);
      return JSON.stringify(j);
    };
    assert.throws(() => decodeFitted('{not json'), /decodeFitted: not JSON/);
    assert.throws(() => decodeFitted('[]'), /decodeFitted: the document must be an object/);
    assert.throws(
      () => decodeFitted(bad((j) => (j.format = 'other/1'))),
      /format must be 'tenantml.fitted\/1'/,
    );
    assert.throws(() => decodeFitted(bad((j) => (j.kind = 'forest'))), /kind must be 'linear' or 'gbdt'/);
    assert.throws(() => decodeFitted(bad((j) => (j.task = 'ranking'))), /task must be one of/);
    assert.throws(() => decodeFitted(bad((j) => (j.nFeatures = 0))), /nFeatures must be a positive integer/);
    assert.throws(
      () => decodeFitted(bad((j) => ((j.baseScore as { base64: string }).base64 = 'AAAA'))),
      /baseScore holds 3 bytes, not 1 entries/,
    );
    assert.throws(
      () => decodeFitted(bad((j) => ((j.baseScore as { dtype: string }).dtype = 'f32'))),
      /baseScore must have dtype f64/,
    );
    assert.throws(
      () => decodeFitted(bad((j) => ((j.trees as { output: number }[])[0].output = 5))),
      /trees\[0\]\.output must be an integer in \[0, 1\)/,
    );
    // A child link pointing back up would loop forever at prediction time.
    const looped = bad((j) => {
      const tree = (j.trees as Record<string, { base64: string; length: number }>[])[0];
      const left = new Int32Array(Uint8Array.from(Buffer.from(tree.left.base64, 'base64')).buffer);
      const at = left.findIndex((v) => v !== -1);
      left[at] = at;
      tree.left.base64 = Buffer.from(left.buffer).toString('base64');
    });
    assert.throws(() => decodeFitted(looped), /has a child outside the tree/);
  });
});

describe('loadTrained', () => {
  test('rebuilds a model that predicts the same and can be tuned from', () => {
    const t = train('binary', 'linear');
    const back = loadTrained(stored(t));
    assert.deepEqual(back.model, t.model);
    assert.deepEqual(back.featurizer, t.featurizer);
    assert.deepEqual(back.modelJson, t.modelJson);
    assert.deepEqual(back.metrics, t.metrics);
    const tuned = trainModel({
      rows: rowsOf('binary', 120, 5, 1),
      schema: schemaOf('binary'),
      target: 'label',
      seed: 4,
      base: back,
      onnx: false,
    });
    assert.equal(tuned.modelJson.algorithm, 'linear');
    assert.ok(tuned.baseMetrics?.task === 'binary');
  });

  test('refuses pieces that do not belong together', () => {
    const lin = stored(train('binary', 'linear'));
    const trees = stored(train('binary', 'gbdt'));
    assert.throws(() => loadTrained({ ...lin, featurizer: '{}' }), /not a 'tenantml.featurizer' document/);
    assert.throws(
      () => loadTrained({ ...lin, model: '{"format":"x"}' }),
      /not a 'tenantml.model\/1' document/,
    );
    assert.throws(
      () => loadTrained({ ...lin, model: trees.model }),
      /describes gbdt\/binary, the parameters are linear\/binary/,
    );
    const multi = stored(train('multiclass', 'linear'));
    assert.throws(
      () => loadTrained({ ...lin, fitted: multi.fitted, model: multi.model, featurizer: trees.featurizer }),
      /features/,
    );
  });
});
