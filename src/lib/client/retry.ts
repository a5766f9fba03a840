/**
 * The retry rules: which failed attempts are sent again, after how long, and on what kind
 * of connection. A retry never outlives the call's total deadline.
 */

import type { AttemptFailure } from './transport';

export interface RetryCounters {
  attempts: number;
  stale: number;
  overloaded: number;
  dropped: number;
  /** Repeats after a truncated, invalid or timed-out response. */
  reread: number;
}

export interface RetryContext {
  /** GET, or a write whose patch is safe to send twice (absolute values only). */
  replayable: boolean;
  isRead: boolean;
  remainingMs: number;
  totalMs: number;
  responseMs: number;
}

export interface RetryDecision {
  delayMs: number;
  freshConnection: boolean;
}

/** Overload retries per call: the device is given a pause, not a stream of requests. */
const MAX_OVERLOAD_RETRIES = 2;
const OVERLOAD_BASE_DELAY_MS = 250;
const JITTER_MS = 100;

/** Returns how to retry the failed attempt, or undefined when the failure is final. */
export function decideRetry(
  failure: AttemptFailure,
  counters: RetryCounters,
  context: RetryContext,
  random: () => number = Math.random,
): RetryDecision | undefined {
  const jitter = Math.round(random() * JITTER_MS);
  // A retry is not started when less than this remains of the deadline: it could not finish.
  const minimumLeftMs = Math.min(1000, context.totalMs / 4);
  const fits = (delayMs: number): boolean => context.remainingMs - delayMs >= minimumLeftMs;

  switch (failure.error.errorClass) {
    case 'stale':
      // A reused connection died before any response byte: the request never reached the
      // device's handler, and a new connection cannot be stale.
      if (context.replayable && counters.stale === 0) {
        counters.stale += 1;
        return { delayMs: 0, freshConnection: true };
      }
      return undefined;

    case 'overloaded': {
      // A 503 (complete or cut short) means the handler did not run, so even a toggle can be
      // sent again. Retry-After is honoured as the minimum pause.
      if (counters.overloaded >= MAX_OVERLOAD_RETRIES) {
        return undefined;
      }
      const backoff = OVERLOAD_BASE_DELAY_MS * 2 ** counters.overloaded;
      const delayMs = Math.max(backoff, failure.retryAfterMs ?? 0) + jitter;
      if (!fits(delayMs)) {
        return undefined;
      }
      counters.overloaded += 1;
      return { delayMs, freshConnection: false };
    }

    case 'dropped': {
      // The device closed a new connection without a response (low memory). It may or may not
      // have run the handler, so only requests that are safe to repeat go again.
      const delayMs = 250 + Math.round(random() * 250);
      if (!context.replayable || counters.dropped > 0 || !fits(delayMs)) {
        return undefined;
      }
      counters.dropped += 1;
      return { delayMs, freshConnection: true };
    }

    case 'truncated':
    case 'invalid-response': {
      // The handler ran; repeating is safe for reads and absolute writes only.
      const delayMs = 100 + jitter;
      if (!context.replayable || counters.reread > 0 || !fits(delayMs)) {
        return undefined;
      }
      counters.reread += 1;
      return { delayMs, freshConnection: true };
    }

    case 'timeout':
      // Reads only: a write that timed out may still be running on the device. Only the
      // response limit can end an attempt with time left, and the repeat needs that much.
      if (!context.isRead || counters.reread > 0 || !fits(context.responseMs)) {
        return undefined;
      }
      counters.reread += 1;
      return { delayMs: 0, freshConnection: true };

    default:
      return undefined;
  }
}
