/**
 * The request lane of one device. It keeps at most `maxInFlight` requests on the wire (never
 * two writes at once) and a bounded FIFO queue behind them. Concurrent identical reads share
 * one request, queued absolute writes are merged (latest wins), and an optional minimum gap
 * separates the starts of two writes.
 *
 * The lane only orders work. Running a job (attempts, retries, classification) and settling
 * its callers belong to the client, which passes them in as `run` and `complete`.
 */

import type { WledError } from '../errors';
import { mergePatches, type PatchClassification } from '../wled/state-patch';
import type { RequestDiagnostics, WledState } from './types';
import type { Validator } from './validate';

/** One caller waiting for a job's outcome. */
export interface Caller {
  resolve(value: unknown, diagnostics: RequestDiagnostics): void;
  reject(error: WledError): void;
  /** Epoch milliseconds of the call. */
  calledAt: number;
  /** Jobs waiting in the lane when the call was queued. */
  queueDepth: number;
  /** Withdraws the caller when it has waited in the queue too long. */
  queueTimer?: NodeJS.Timeout;
  /** Removes the caller's abort listener. */
  detachAbort?: () => void;
}

export type JobKind = 'read' | 'write' | 'probe';

export interface Job {
  kind: JobKind;
  method: 'GET' | 'POST';
  path: string;
  /** Patch of a write, without `"v"`; replaced when later writes are merged in. */
  patch?: WledState;
  /** Each caller's own patch of a write, to merge again when a caller withdraws. */
  writes?: Array<{ caller: Caller; patch: WledState }>;
  classification?: PatchClassification;
  validate?: Validator;
  /** The endpoint may be missing on older firmware: 404 and 501 resolve with no data. */
  optional?: boolean;
  callers: Caller[];
  /** Writes carried by this job, merged ones included (1 when it went alone). */
  mergedWrites: number;
  started: boolean;
  /** Aborts the job on the wire when every caller of a read has gone. */
  abortUnwanted?: () => void;
  /** Outcome set by `run`: the parsed body or the classified failure, with the attempt figures. */
  outcome?: JobOutcome;
  /** The device state the client knew when the write started, for the read-back after a
   *  failed write that is not safe to repeat. */
  baseline?: WledState;
}

/** Builds a GET that no caller waits for: a probe, the identity read or a write's read-back.
 *  `started` is true when the runner sends it itself instead of queueing it in the lane. */
export function probeJob(path: string, validate: Validator, started: boolean): Job {
  return { kind: 'probe', method: 'GET', path, validate, callers: [], mergedWrites: 1, started };
}

export interface JobOutcome {
  data?: unknown;
  error?: WledError;
  attempts: number;
  reusedSocket: boolean;
  ttfbMs?: number;
  status?: number;
}

export interface LaneOptions {
  maxInFlight: number;
  queueLimit: number;
  /** Current minimum gap between write starts, in milliseconds (it grows while degraded). */
  writeSpacingMs: () => number;
  /** Runs a job; resolves when its last attempt has finished and its body was parsed. */
  run: (job: Job) => Promise<void>;
  /** Settles the job's callers; called after the job's slot was released. */
  complete: (job: Job) => void;
}

/** Takes a withdrawn caller's patch out of a queued write by merging the others again. */
function removeWrite(job: Job, caller: Caller): void {
  const writes = (job.writes ?? []).filter((write) => write.caller !== caller);
  job.writes = writes;
  if (writes.length === 0) {
    return;
  }

  let patch: WledState | undefined = writes[0].patch;
  for (const write of writes.slice(1)) {
    // Merging fails only for a `seg` object without `id` beside entries with ids, and a subset
    // of patches that merged once cannot contain that mix.
    patch = patch === undefined ? undefined : mergePatches(patch, write.patch);
  }
  if (patch !== undefined) {
    job.patch = patch;
    job.mergedWrites = writes.length;
  }
}

export class RequestLane {
  private readonly queue: Job[] = [];
  private readonly running = new Set<Job>();
  private readonly options: LaneOptions;
  private lastWriteStartedAt = 0;
  private spacingTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Writes folded into an earlier queued write since the lane was created. */
  mergedWrites = 0;

  constructor(options: LaneOptions) {
    this.options = options;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Whether a new job would exceed the queue limit. */
  get full(): boolean {
    return this.queue.length >= this.options.queueLimit;
  }

  /**
   * Finds a read of `path` that a new caller can share: a queued one with no write queued
   * after it, or the one on the wire when nothing is queued and no write is on the wire.
   * With `queuedOnly`, a read already on the wire is never shared.
   */
  findSharedRead(path: string, queuedOnly = false): Job | undefined {
    for (let index = this.queue.length - 1; index >= 0; index--) {
      const job = this.queue[index];
      if (job.kind === 'write') {
        return undefined;
      }
      if (job.kind === 'read' && job.path === path) {
        return job;
      }
    }
    if (this.queue.length > 0 || queuedOnly) {
      return undefined;
    }

    let shared: Job | undefined;
    for (const job of this.running) {
      if (job.kind === 'write') {
        return undefined;
      }
      if (job.kind === 'read' && job.path === path) {
        shared = job;
      }
    }
    return shared;
  }

  /**
   * Folds a mergeable patch into the last queued job when that job is a mergeable write.
   * Returns the job that now carries the patch, or undefined when it has to go alone.
   */
  mergeWrite(patch: WledState, caller: Caller): Job | undefined {
    const tail = this.queue[this.queue.length - 1];
    if (tail === undefined || tail.kind !== 'write' || tail.classification?.mergeable !== true) {
      return undefined;
    }

    const merged = mergePatches(tail.patch ?? {}, patch);
    if (merged === undefined) {
      return undefined;
    }

    tail.patch = merged;
    tail.callers.push(caller);
    tail.writes?.push({ caller, patch });
    tail.mergedWrites += 1;
    this.mergedWrites += 1;
    return tail;
  }

  enqueue(job: Job): void {
    this.queue.push(job);
    this.pump();
  }

  /** Puts a job (a probe) ahead of everything queued. */
  enqueueFirst(job: Job): void {
    this.queue.unshift(job);
    this.pump();
  }

  /**
   * Removes a caller. A queued write no longer carries the caller's patch, a queued job left
   * without callers leaves the queue, and a read on the wire left without callers is aborted.
   */
  withdraw(job: Job, caller: Caller): void {
    const index = job.callers.indexOf(caller);
    if (index < 0) {
      return;
    }
    job.callers.splice(index, 1);
    if (job.kind === 'write' && !job.started) {
      removeWrite(job, caller);
    }

    if (job.callers.length > 0 || job.kind === 'probe') {
      return;
    }
    if (!job.started) {
      const position = this.queue.indexOf(job);
      if (position >= 0) {
        this.queue.splice(position, 1);
      }
      return;
    }
    if (job.kind === 'read') {
      job.abortUnwanted?.();
    }
  }

  /** Empties the queue and returns the jobs that were waiting, for the caller to reject. */
  drain(): Job[] {
    const waiting = this.queue.splice(0, this.queue.length);
    clearTimeout(this.spacingTimer);
    this.spacingTimer = undefined;
    return waiting;
  }

  /** Resolves when nothing is on the wire. */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the spacing timer (on close); queued jobs must have been drained first. */
  stop(): void {
    clearTimeout(this.spacingTimer);
    this.spacingTimer = undefined;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.running.size < this.options.maxInFlight) {
      const next = this.queue[0];

      if (next.kind === 'write') {
        if (this.writeOnWire()) {
          return;
        }
        const wait = this.lastWriteStartedAt + this.options.writeSpacingMs() - Date.now();
        if (wait > 0) {
          this.scheduleSpacing(wait);
          return;
        }
        this.lastWriteStartedAt = Date.now();
      }

      this.queue.shift();
      this.start(next);
    }
  }

  private writeOnWire(): boolean {
    for (const job of this.running) {
      if (job.kind === 'write') {
        return true;
      }
    }
    return false;
  }

  private scheduleSpacing(waitMs: number): void {
    if (this.spacingTimer !== undefined) {
      return;
    }
    this.spacingTimer = setTimeout(() => {
      this.spacingTimer = undefined;
      this.pump();
    }, waitMs);
  }

  private start(job: Job): void {
    job.started = true;
    this.running.add(job);

    void this.options
      .run(job)
      .catch(() => undefined)
      .then(() => {
        // The slot is released before the callers hear the outcome.
        this.running.delete(job);
        this.options.complete(job);
        if (this.running.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          waiters.forEach((resolve) => resolve());
        }
        this.pump();
      });
  }
}
