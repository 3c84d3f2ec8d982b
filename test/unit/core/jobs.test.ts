import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JOB_STATES, type JobEvent, nextState, TERMINAL_STATES } from '../../../src/core/jobs.ts';

const EVENTS: JobEvent[] = ['claim', 'succeed', 'fail', 'cancel', 'timeout', 'lease_expired'];

describe('core/jobs: nextState', () => {
  test('every legal transition, and nothing else', () => {
    const legal: Record<string, string> = {};
    for (const state of JOB_STATES)
      for (const event of EVENTS) {
        const next = nextState(state, event, 1);
        if (next !== null) legal[`${state}+${event}`] = next;
      }
    assert.deepEqual(legal, {
      'queued+claim': 'running',
      'queued+cancel': 'cancelled',
      'running+succeed': 'succeeded',
      'running+cancel': 'cancelled',
      'running+timeout': 'timed_out',
      'running+fail': 'queued',
      'running+lease_expired': 'queued',
    });
  });

  test('a failed attempt or a lost worker requeues only while attempts remain', () => {
    assert.equal(nextState('running', 'fail', 2), 'queued');
    assert.equal(nextState('running', 'fail', 0), 'failed');
    assert.equal(nextState('running', 'lease_expired', 1), 'queued');
    assert.equal(nextState('running', 'lease_expired', 0), 'failed');
    assert.equal(nextState('running', 'fail', -1), 'failed');
  });

  test('terminal states never move, whatever the attempts left', () => {
    assert.deepEqual([...TERMINAL_STATES].sort(), ['cancelled', 'failed', 'succeeded', 'timed_out']);
    for (const state of TERMINAL_STATES)
      for (const event of EVENTS)
        for (const left of [0, 5]) assert.equal(nextState(state, event, left), null, `${state}+${event}`);
  });

  test('a queued job cannot finish without running, nor a running one be claimed again', () => {
    for (const e of ['succeed', 'fail', 'timeout', 'lease_expired'] as const)
      assert.equal(nextState('queued', e, 3), null, e);
    assert.equal(nextState('running', 'claim', 3), null);
  });
});
