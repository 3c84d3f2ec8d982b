// The supervisor's pure pieces: /proc/<pid>/stat parsing, crash reasons (out of memory, signals, a last
// stderr line without data values), parameter checks before queueing, and whether a target suits a task.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ColumnSchema } from '../../../src/core/types.ts';
import { crashReason, lastErrorLine } from '../../../src/jobs/supervisor.ts';
import { CpuMeter, parseProcStat, readProcessCpuSeconds } from '../../../src/jobs/usage.ts';
import { checkParams } from '../../../src/ml/params.ts';
import { seedOf, targetTask } from '../../../src/services/training.ts';

describe('CPU time', () => {
  test('utime + stime are read after the last parenthesis of the command name', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (x) y) R 1 2 3 4 5 6 7 8 9 10 250 50 7 8 20 0 1 0';
    assert.equal(parseProcStat(stat, 100), 3);
    assert.equal(parseProcStat('garbage', 100), null);
  });

  test('this process can be measured, and the meter keeps the larger of sample and report', async () => {
    if (process.platform !== 'linux') return;
    const own = await readProcessCpuSeconds(process.pid);
    assert.ok(own !== null && own > 0);
    const meter = new CpuMeter(process.pid);
    const sampled = await meter.sample();
    assert.ok(sampled > 0);
    meter.report({ user: (sampled + 5) * 1e6, system: 0 });
    assert.equal(meter.seconds, sampled + 5);
    assert.equal(await readProcessCpuSeconds(2 ** 30), null);
  });
});

describe('crash reasons', () => {
  test('V8 heap exhaustion and SIGABRT read as out of memory', () => {
    const v8 =
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb8 node::Abort()';
    assert.equal(crashReason(null, 'SIGABRT', v8, 32), 'out of memory (heap limit 32 MiB)');
    assert.equal(crashReason(134, null, '', 64), 'out of memory (heap limit 64 MiB)');
  });

  test('other exits say how, with the last error line and no quoted data', () => {
    const stderr =
      "file:///x.ts:3\n    throw new Error('bad value \"alice@example.com\"');\n    ^\n\nError: cannot use 'alice@example.com' here\n    at f (file:///x.ts:3:11)\n\nNode.js v20.20.2\n";
    const reason = crashReason(1, null, stderr, 256);
    assert.equal(reason, 'the training process exited with code 1: Error: cannot use … here');
    assert.ok(!reason.includes('alice'));
    assert.equal(crashReason(null, 'SIGSEGV', '', 256), 'the training process was killed by signal SIGSEGV');
    assert.equal(lastErrorLine(''), null);
    assert.ok((lastErrorLine(`Error: ${'x'.repeat(500)}`) ?? '').length <= 160);
  });
});

describe('checkParams', () => {
  test('valid parameters pass', () => {
    assert.deepEqual(
      checkParams('gbdt', { nRounds: 50, learningRate: 0.2, growPolicy: 'lossguide', maxDepth: 0 }),
      [],
    );
    assert.deepEqual(
      checkParams('linear', { C: 0.5, classWeight: 'balanced', maxIterations: 10, textBits: 12 }),
      [],
    );
    assert.deepEqual(checkParams('auto', { maxCategories: 20 }), []);
  });

  test('every problem is named by its field', () => {
    const fields = (a: 'auto' | 'linear' | 'gbdt', p: Record<string, unknown>) =>
      checkParams(a, p)
        .map((e) => e.field)
        .sort();
    assert.deepEqual(fields('gbdt', { nRounds: 0, learningRate: '0.5', maxBins: 300, C: 1 }), [
      'params.C',
      'params.learningRate',
      'params.maxBins',
      'params.nRounds',
    ]);
    assert.deepEqual(fields('gbdt', { maxDepth: 0 }), ['params.maxDepth']); // depthwise needs a depth
    assert.deepEqual(
      fields('linear', { C: -1, tol: 0, maxIterations: 1.5, classWeight: { a: -1 }, nRounds: 3 }),
      ['params.C', 'params.classWeight', 'params.maxIterations', 'params.nRounds', 'params.tol'],
    );
    assert.deepEqual(fields('auto', { textBits: 30, C: 1, __test: {} }), [
      'params.C',
      'params.__test',
      'params.textBits',
    ]);
  });
});

describe('targetTask', () => {
  const col = (over: Partial<ColumnSchema>): ColumnSchema => ({
    name: 'y',
    type: 'categorical',
    nullable: false,
    missing: 0,
    distinct: 2,
    distinctApprox: false,
    identifying: false,
    identifyingReasons: [],
    ...over,
  });

  test('infers the task the way training does', () => {
    assert.equal(targetTask(col({ type: 'numeric', distinct: 500 }), 1000, undefined).task, 'regression');
    assert.equal(targetTask(col({ type: 'integer', distinct: 5 }), 1000, undefined).task, 'multiclass');
    assert.equal(targetTask(col({ type: 'integer', distinct: 50 }), 1000, undefined).task, 'regression');
    assert.equal(targetTask(col({ type: 'boolean' }), 1000, undefined).task, 'binary');
    assert.equal(targetTask(col({ distinct: 7 }), 1000, undefined).task, 'multiclass');
  });

  test('refuses targets that cannot train', () => {
    assert.match(targetTask(col({ type: 'text' }), 1000, undefined).problem ?? '', /a target must be/);
    assert.match(targetTask(col({ distinct: 101 }), 1000, 'multiclass').problem ?? '', /more than 100/);
    assert.match(targetTask(col({ distinct: 1 }), 1000, undefined).problem ?? '', /single class/);
    assert.match(targetTask(col({ missing: 600 }), 1000, undefined).problem ?? '', /missing in 60%/);
    const few = targetTask(col({}), 5, undefined);
    assert.ok(few.problem !== undefined && few.unprocessable === true);
    assert.match(
      targetTask(col({ identifying: true, identifyingReasons: ['name:email'] }), 1000, undefined).problem ??
        '',
      /identifying \(name:email\)/,
    );
  });

  test('the seed derived from a job id is stable and differs between ids', () => {
    assert.equal(seedOf('job_a'), seedOf('job_a'));
    assert.notEqual(seedOf('job_a'), seedOf('job_b'));
  });
});
