// evaluateOn, what a challenger job measures its champion with: on a run's own validation rows it gives
// back that run's metrics exactly, a reloaded model gives the same figures, it reads labels in the
// model's class numbering whatever the frame holds elsewhere, and a label the model cannot score is a
// refusal that names no label.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import type { DatasetSchema } from '../../../src/core/types.ts';
import { encodeFitted, loadTrained } from '../../../src/ml/codec.ts';
import { buildFrame } from '../../../src/ml/frame.ts';
import { evaluateOn, trainModel } from '../../../src/ml/train.ts';

const schema: DatasetSchema = {
  columns: [
    { name: 'x1', type: 'numeric' },
    { name: 'colour', type: 'categorical' },
    { name: 'label', type: 'categorical' },
    { name: 'y', type: 'numeric' },
  ],
} as DatasetSchema;

function rows(n: number, extraClass = false): Record<string, string | number | null>[] {
  const out: Record<string, string | number | null>[] = [];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 101) / 10;
    const colour = ['red', 'green', 'blue'][i % 3];
    let label = x1 + (colour === 'red' ? 2 : 0) > 5 ? 'yes' : 'no';
    if (extraClass && i === n - 1) label = 'SECRETLABEL';
    out.push({ x1, colour, label, y: x1 * 2 + (colour === 'blue' ? 1 : 0) + (i % 7) / 10 });
  }
  return out;
}

const numeric = (m: object): Record<string, number> =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number')) as Record<string, number>;

describe('evaluateOn', () => {
  for (const [task, target, algorithm] of [
    ['binary', 'label', 'linear'],
    ['binary', 'label', 'gbdt'],
    ['regression', 'y', 'gbdt'],
  ] as const) {
    test(`${task} ${algorithm}: on the run’s validation rows it is the run’s metrics, reloaded too`, () => {
      const frame = buildFrame(rows(200), schema);
      const trained = trainModel({
        frame,
        schema,
        target,
        task,
        algorithm,
        seed: 3,
        onnx: false,
        ...(algorithm === 'gbdt' ? { params: { nRounds: 10 } } : {}),
      });
      assert.ok(trained.validIndex && trained.trainIndex && trained.validPredictions);
      assert.equal(trained.trainIndex.length + trained.validIndex.length, 200);
      const C = task === 'binary' ? 2 : 1;
      assert.equal(trained.validPredictions.length, trained.validIndex.length * C);
      const m = evaluateOn(trained, frame, trained.validIndex, target);
      assert.deepEqual(m, trained.metrics);
      const reloaded = loadTrained({
        fitted: encodeFitted(trained.model),
        featurizer: JSON.stringify(trained.featurizer),
        model: JSON.stringify(trained.modelJson),
      });
      assert.deepEqual(numeric(evaluateOn(reloaded, frame, trained.validIndex, target)), numeric(m));
    });
  }

  test('only the rows asked for count; a class the model does not know is refused without naming it', () => {
    const trained = trainModel({
      frame: buildFrame(rows(200), schema),
      schema,
      target: 'label',
      algorithm: 'linear',
      seed: 1,
      onnx: false,
    });
    const other = buildFrame(rows(120, true), schema); // its last row holds a class the model never saw
    const some = Int32Array.from({ length: 50 }, (_, i) => i * 2);
    const m = evaluateOn(trained, other, some, 'label');
    assert.equal(m.n, 50);
    const err = (() => {
      try {
        evaluateOn(trained, other, Int32Array.of(0, 1, 119), 'label');
        return null;
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, 'validation_failed');
    assert.equal(err.errors?.[0]?.field, 'target');
    assert.doesNotMatch(err.message, /SECRETLABEL/);
  });

  test('a row without a label, or a missing target column, is refused', () => {
    const trained = trainModel({
      frame: buildFrame(rows(100), schema),
      schema,
      target: 'label',
      algorithm: 'linear',
      seed: 2,
      onnx: false,
    });
    const data = rows(20);
    data[3].label = null;
    const frame = buildFrame(data, schema);
    assert.throws(() => evaluateOn(trained, frame, Int32Array.of(1, 3), 'label'), /every row evaluated/);
    assert.throws(() => evaluateOn(trained, frame, Int32Array.of(1), 'nope'), /not in the frame/);
  });
});
