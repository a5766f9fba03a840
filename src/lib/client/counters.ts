/** The client's counters, as `stats()` reports them. */

import type { ErrorClass, WledError } from '../errors';
import type { DeviceClientStats } from './types';

/** Weight of the newest sample in the latency average. */
const LATENCY_EWMA_WEIGHT = 0.2;

export class ClientCounters {
  /** Requests sent, retries, probes and read-backs included. */
  requests = 0;
  successes = 0;
  retries = 0;
  /** Failed attempts, and calls rejected without an attempt, by class. */
  readonly failuresByClass: Partial<Record<ErrorClass, number>> = {};
  lastError: DeviceClientStats['lastError'];
  /** Exponentially weighted average of successful round trips, in milliseconds. */
  latencyMs: number | undefined;

  recordRequest(): void {
    this.requests += 1;
  }

  recordRetry(): void {
    this.retries += 1;
  }

  recordSuccess(elapsedMs: number): void {
    this.successes += 1;
    this.latencyMs =
      this.latencyMs === undefined
        ? elapsedMs
        : this.latencyMs + LATENCY_EWMA_WEIGHT * (elapsedMs - this.latencyMs);
  }

  recordFailure(error: WledError): void {
    this.failuresByClass[error.errorClass] = (this.failuresByClass[error.errorClass] ?? 0) + 1;
  }

  /** Keeps the error a call ended with, for the status view. */
  recordCallError(error: WledError): void {
    this.lastError = { errorClass: error.errorClass, message: error.message, at: Date.now() };
  }
}
