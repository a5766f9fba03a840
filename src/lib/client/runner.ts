/**
 * Runs one job of the lane: the first-contact identity check, the attempts and the retries
 * the rules allow, and the read-back after a write that is not safe to repeat. The job's slot
 * is held for all of it, and `job.outcome` is set before the lane releases the slot.
 */

import { WledError, type ErrorClass } from '../errors';
import { messageText, renderMessage, type MessageText } from '../messages';
import { RESOURCE_PATHS } from '../wled/resources';
import { AbortReason, failureReason, requestError, requestFailure, withDetails } from './classify';
import type { ClientCounters } from './counters';
import type { DeviceIdentity } from './identity';
import { probeJob, type Job, type JobOutcome } from './lane';
import type { ConnectionLifecycle } from './lifecycle';
import { decideRetry, type RetryCounters } from './retry';
import type { AttemptFailure, AttemptSuccess, Transport } from './transport';
import type { DeviceTimeouts, Logger, WledState } from './types';
import { expectObject, validatorFor } from './validate';
import { changedFields } from './verify';

export interface RunnerContext {
  name: string;
  timeouts: DeviceTimeouts;
  logger: Logger;
  transport: Transport;
  lifecycle: ConnectionLifecycle;
  identity: DeviceIdentity;
  counters: ClientCounters;
  /** Aborted when the client's close grace has run out. */
  closeSignal: AbortSignal;
  /** Applies what a parsed response body shows about the device. */
  observeDocument(path: string, data: unknown): void;
}

export class JobRunner {
  constructor(private readonly context: RunnerContext) {}

  /** Runs a job's attempts and stores the outcome in `job.outcome`. */
  async run(job: Job): Promise<void> {
    for (const caller of job.callers) {
      clearTimeout(caller.queueTimer);
      caller.queueTimer = undefined;
    }
    // NOTE: AbortSignal.any is not used to combine the deadline with the close signal. On
    // Node 20.20, each signal it derives from the long-lived close signal stayed in memory
    // (about 50 bytes each over 500 000 calls in a loop), so one controller per job is used.
    // Taken now, because live pushes of this very write can update the known state before a
    // read-back would compare against it.
    if (job.kind === 'write') {
      job.baseline = this.context.identity.lastKnownState;
    }
    const jobAbort = new AbortController();
    const abort = (errorClass: ErrorClass, what: MessageText): void => {
      if (!jobAbort.signal.aborted) {
        jobAbort.abort(new AbortReason(errorClass, what));
      }
    };

    const deadlineAt = Date.now() + this.context.timeouts.totalMs;
    const deadline = setTimeout(
      () =>
        abort(
          'timeout',
          messageText('client.total-timeout', { ms: this.context.timeouts.totalMs }),
        ),
      this.context.timeouts.totalMs,
    );
    const onClose = (): void => abort('closed', messageText('client.closed-on-wire'));
    this.context.closeSignal.addEventListener('abort', onClose, { once: true });
    job.abortUnwanted = () => abort('cancelled', messageText('client.all-callers-withdrew'));

    try {
      job.outcome = await this.attemptWithRetries(job, jobAbort.signal, deadlineAt);
    } finally {
      clearTimeout(deadline);
      this.context.closeSignal.removeEventListener('abort', onClose);
      job.abortUnwanted = undefined;
    }
  }

  private async attemptWithRetries(
    job: Job,
    signal: AbortSignal,
    deadlineAt: number,
  ): Promise<JobOutcome> {
    if (job.kind === 'write' && this.context.lifecycle.state === 'wrong-device') {
      return { error: this.wrongDeviceError(job), attempts: 0, reusedSocket: false };
    }

    this.context.lifecycle.requestStarting();
    if (
      job.kind !== 'probe' &&
      !this.context.identity.infoSeen &&
      job.path !== RESOURCE_PATHS.info &&
      job.path !== RESOURCE_PATHS.full
    ) {
      const identified = await this.identify(signal);
      if (identified !== undefined) {
        return { error: identified, attempts: 1, reusedSocket: false };
      }
      if (job.kind === 'write' && this.context.lifecycle.state === 'wrong-device') {
        return { error: this.wrongDeviceError(job), attempts: 1, reusedSocket: false };
      }
    }

    const counters: RetryCounters = { attempts: 0, stale: 0, overloaded: 0, dropped: 0, reread: 0 };
    const replayable = job.kind !== 'write' || job.classification?.replayable === true;
    let freshConnection = false;
    let last: AttemptFailure | undefined;

    for (;;) {
      if (this.context.lifecycle.ended) {
        return this.failureOutcome(job, this.closedError(job), counters.attempts, last);
      }

      counters.attempts += 1;
      const result = await this.sendAttempt(job, signal, freshConnection);
      if (!isFailure(result)) {
        this.onAttemptSuccess(job, result);
        return {
          data: result.data,
          attempts: counters.attempts,
          reusedSocket: result.observation.reusedSocket,
          ttfbMs: result.observation.ttfbMs,
          status: result.status,
        };
      }

      last = result;
      // A failed probe is followed by the next backoff step, not by a retry.
      const decision =
        job.kind === 'probe'
          ? undefined
          : decideRetry(result, counters, {
              replayable,
              isRead: job.method === 'GET',
              remainingMs: deadlineAt - Date.now(),
              totalMs: this.context.timeouts.totalMs,
              responseMs: this.context.timeouts.responseMs,
            });
      if (decision === undefined) {
        break;
      }

      this.context.counters.recordRetry();
      const when = decision.delayMs > 0 ? ` in ${decision.delayMs} ms` : '';
      const connection = decision.freshConnection ? ' on a new connection' : '';
      this.context.logger.debug(
        `${this.context.name}: retrying ${job.method} ${job.path} (attempt ${counters.attempts + 1})${when}${connection} after ${result.error.errorClass}: ${renderMessage(failureReason(result.error))}`,
      );
      if (decision.delayMs > 0 && !(await sleep(decision.delayMs, signal))) {
        // The deadline or the close fired during the pause; report why.
        const reason = signal.reason instanceof AbortReason ? signal.reason : undefined;
        const error =
          reason === undefined ? result.error : this.abortError(job, reason, counters.attempts);
        return this.failureOutcome(job, error, counters.attempts, last);
      }
      freshConnection = decision.freshConnection;
    }

    const failure = last as AttemptFailure;
    if (job.kind === 'write' && !replayable && mayHaveReachedDevice(failure.error.errorClass)) {
      return this.verifyWrite(job, failure, counters.attempts);
    }
    return this.failureOutcome(job, failure.error, counters.attempts, last);
  }

  private async sendAttempt(
    job: Job,
    signal: AbortSignal,
    freshConnection: boolean,
  ): Promise<AttemptSuccess | AttemptFailure> {
    this.context.counters.recordRequest();
    try {
      return await this.context.transport.send({
        method: job.method,
        path: job.path,
        body: job.method === 'POST' ? JSON.stringify({ ...job.patch, v: true }) : undefined,
        signal,
        freshConnection,
        validate: job.validate,
        optional: job.optional,
      });
    } catch (failure) {
      const attemptFailure = failure as AttemptFailure;
      this.context.counters.recordFailure(attemptFailure.error);
      this.context.lifecycle.recordFailure(attemptFailure.error);
      return attemptFailure;
    }
  }

  private onAttemptSuccess(job: Job, result: AttemptSuccess): void {
    this.context.counters.recordSuccess(result.observation.elapsedMs);
    this.context.observeDocument(job.path, result.data);
    this.context.lifecycle.recordSuccess(result.observation.elapsedMs);
  }

  /** Records the device's identity on first contact (GET /json/info). Returns an error only
   *  when the device could not be reached at all, which fails the job that needed it. */
  private async identify(signal: AbortSignal): Promise<WledError | undefined> {
    const probe = probeJob(RESOURCE_PATHS.info, validatorFor(RESOURCE_PATHS.info), true);
    const result = await this.sendAttempt(probe, signal, false);
    if (!isFailure(result)) {
      this.onAttemptSuccess(probe, result);
      return undefined;
    }
    const errorClass = result.error.errorClass;
    return errorClass === 'unreachable' ||
      errorClass === 'timeout' ||
      errorClass === 'closed' ||
      errorClass === 'cancelled'
      ? result.error
      : undefined;
  }

  /**
   * Reads the state back after a write that is not safe to repeat failed in a way that may
   * have reached the device, and reports what actually happened: the new state when the
   * fields the write touches changed, otherwise `indeterminate`.
   */
  private async verifyWrite(
    job: Job,
    failure: AttemptFailure,
    attempts: number,
  ): Promise<JobOutcome> {
    // NOTE: the baseline is the state this client knew when the write started. A change made
    // by another controller since then can be taken for the effect of this write.
    const baseline = job.baseline;
    const reread = new AbortController();
    const timer = setTimeout(
      () =>
        reread.abort(
          new AbortReason(
            'timeout',
            messageText('client.reread-timeout', { ms: this.context.timeouts.responseMs }),
          ),
        ),
      this.context.timeouts.responseMs,
    );
    const onClose = (): void =>
      reread.abort(new AbortReason('closed', messageText('client.was-closed')));
    this.context.closeSignal.addEventListener('abort', onClose, { once: true });

    const read = probeJob(RESOURCE_PATHS.state, expectObject, true);
    let result: AttemptSuccess | AttemptFailure;
    try {
      result = this.context.lifecycle.ended
        ? failure
        : await this.sendAttempt(read, reread.signal, true);
    } finally {
      clearTimeout(timer);
      this.context.closeSignal.removeEventListener('abort', onClose);
    }

    const written = `${job.method} ${job.path}`;
    if (isFailure(result)) {
      const what = messageText('client.indeterminate-read-failed', {
        reason: failureReason(failure.error),
        readClass: result.error.errorClass,
      });
      const error = this.indeterminateError(job, failure, what);
      return this.failureOutcome(job, error, attempts + 1, failure);
    }

    this.onAttemptSuccess(read, result);
    const current = result.data as WledState;
    const changed = baseline === undefined ? [] : changedFields(job.patch ?? {}, baseline, current);
    if (changed.length > 0) {
      this.context.logger.debug(
        `${this.context.name}: ${written} failed with ${failure.error.errorClass}, but the state read back shows it applied (${changed.join(', ')} changed)`,
      );
      return {
        data: current,
        attempts: attempts + 1,
        reusedSocket: result.observation.reusedSocket,
        ttfbMs: result.observation.ttfbMs,
        status: result.status,
      };
    }

    const what = messageText(
      baseline === undefined
        ? 'client.indeterminate-no-baseline'
        : 'client.indeterminate-unchanged',
      { reason: failureReason(failure.error) },
    );
    const error = this.indeterminateError(job, failure, what);
    return this.failureOutcome(job, error, attempts + 1, failure);
  }

  private indeterminateError(job: Job, failure: AttemptFailure, what: MessageText): WledError {
    const request = { device: this.context.name, method: job.method, path: job.path };
    return new WledError('indeterminate', requestFailure(request, what), {
      ...failure.error.details,
      cause: failure.error,
    });
  }

  private failureOutcome(
    job: Job,
    error: WledError,
    attempts: number,
    last: AttemptFailure | undefined,
  ): JobOutcome {
    return {
      error: error.details.attempts === attempts ? error : withDetails(error, { attempts }),
      attempts,
      reusedSocket: last?.observation.reusedSocket ?? false,
      ttfbMs: last?.observation.ttfbMs,
      status: error.details.status,
    };
  }

  private closedError(job: Job): WledError {
    return requestError('closed', this.context.name, job, messageText('client.was-closed'));
  }

  private wrongDeviceError(job: Job): WledError {
    const what = this.context.identity.describeOtherDevice();
    return requestError('wrong-device', this.context.name, job, what, { attempts: 0 });
  }

  private abortError(job: Job, reason: AbortReason, attempts: number): WledError {
    return requestError(reason.errorClass, this.context.name, job, reason.what, { attempts });
  }
}

function isFailure(result: AttemptSuccess | AttemptFailure): result is AttemptFailure {
  return result instanceof Error;
}

/** Classes after which a sent write may have been applied by the device. */
function mayHaveReachedDevice(errorClass: ErrorClass): boolean {
  return ['stale', 'dropped', 'truncated', 'invalid-response', 'protocol', 'timeout'].includes(
    errorClass,
  );
}

/** Waits `ms`; resolves false when the signal aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
