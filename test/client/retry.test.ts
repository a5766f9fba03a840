import assert from 'node:assert/strict';

import { decideRetry, type RetryContext, type RetryCounters } from '../../src/lib/client/retry';
import { AttemptFailure, type AttemptObservation } from '../../src/lib/client/transport';
import { WledError, type ErrorClass } from '../../src/lib/errors';
import { messageText } from '../../src/lib/messages';

const OBSERVATION: AttemptObservation = {
  reusedSocket: false,
  connected: true,
  connectTimedOut: false,
  responseStarted: false,
  bytesReceived: 0,
  firstBytes: '',
  elapsedMs: 5,
};

function failure(errorClass: ErrorClass, retryAfterMs?: number): AttemptFailure {
  return new AttemptFailure(
    new WledError(errorClass, messageText('transport.dropped', { code: 'ECONNRESET' })),
    OBSERVATION,
    retryAfterMs,
  );
}

function counters(): RetryCounters {
  return { attempts: 1, stale: 0, overloaded: 0, dropped: 0, reread: 0 };
}

const READ: RetryContext = {
  replayable: true,
  isRead: true,
  remainingMs: 7000,
  totalMs: 8000,
  responseMs: 5000,
};
const TOGGLE: RetryContext = { ...READ, replayable: false, isRead: false };
const ABSOLUTE_WRITE: RetryContext = { ...READ, isRead: false };
const noJitter = () => 0;

describe('retry rules', () => {
  it('stale: once, at once, new connection', () => {
    const count = counters();

    assert.deepEqual(decideRetry(failure('stale'), count, READ, noJitter), {
      delayMs: 0,
      freshConnection: true,
    });
    assert.equal(decideRetry(failure('stale'), count, READ, noJitter), undefined);
  });

  it('stale toggle not repeated', () => {
    assert.equal(decideRetry(failure('stale'), counters(), TOGGLE, noJitter), undefined);
  });

  it('overloaded: two backoff steps', () => {
    const count = counters();

    assert.equal(decideRetry(failure('overloaded'), count, TOGGLE, noJitter)?.delayMs, 250);
    assert.equal(decideRetry(failure('overloaded'), count, TOGGLE, noJitter)?.delayMs, 500);
    assert.equal(decideRetry(failure('overloaded'), count, TOGGLE, noJitter), undefined);
  });

  it('overloaded honours Retry-After', () => {
    assert.equal(
      decideRetry(failure('overloaded', 1000), counters(), READ, noJitter)?.delayMs,
      1000,
    );
  });

  it('no retry past the deadline', () => {
    const late = { ...READ, remainingMs: 1100 };

    assert.equal(decideRetry(failure('overloaded', 1000), counters(), late, noJitter), undefined);
    assert.equal(decideRetry(failure('timeout'), counters(), late, noJitter), undefined);
  });

  it('dropped: replayable only', () => {
    assert.equal(decideRetry(failure('dropped'), counters(), TOGGLE, noJitter), undefined);
    assert.equal(
      decideRetry(failure('dropped'), counters(), ABSOLUTE_WRITE, noJitter)?.delayMs,
      250,
    );
  });

  it('timeout: reads only', () => {
    const roomy = { ...READ, remainingMs: 7000 };

    assert.deepEqual(decideRetry(failure('timeout'), counters(), roomy, noJitter), {
      delayMs: 0,
      freshConnection: true,
    });
    assert.equal(
      decideRetry(
        failure('timeout'),
        counters(),
        { ...ABSOLUTE_WRITE, remainingMs: 7000 },
        noJitter,
      ),
      undefined,
    );
  });

  it('truncated: reads and absolute writes once', () => {
    const count = counters();

    assert.equal(decideRetry(failure('truncated'), count, ABSOLUTE_WRITE, noJitter)?.delayMs, 100);
    assert.equal(
      decideRetry(failure('invalid-response'), count, ABSOLUTE_WRITE, noJitter),
      undefined,
    );
    assert.equal(decideRetry(failure('truncated'), counters(), TOGGLE, noJitter), undefined);
  });

  for (const errorClass of [
    'protocol',
    'unreachable',
    'http',
    'cancelled',
    'closed',
    'wrong-device',
  ] as const) {
    it(`${errorClass}: never repeated`, () => {
      assert.equal(decideRetry(failure(errorClass), counters(), READ, noJitter), undefined);
    });
  }
});
