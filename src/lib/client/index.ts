/**
 * The per-device client: one transport (axios on an agentkeepalive agent), one request
 * lane, one connection lifecycle. Every flow node of a device sends through the one
 * `DeviceClient` its config node owns.
 */

import { EventEmitter } from 'node:events';
import type { ConnectionState, StateChange } from '../connection-state';
import { WledError, invalidInput, type ErrorClass } from '../errors';
import { messageText, type MessageText } from '../messages';
import { RESOURCE_PATHS, isResourceName, type ResourceName } from '../wled/resources';
import { classifyPatch } from '../wled/state-patch';
import { requestError, withDetails } from './classify';
import { ClientCounters } from './counters';
import { DeviceIdentity, type IdentityFinding } from './identity';
import { probeJob, RequestLane, type Caller, type Job, type JobOutcome } from './lane';
import { ConnectionLifecycle, DEFAULT_RECOVERY, type RecoveryOptions } from './lifecycle';
import { JobRunner } from './runner';
import { Transport } from './transport';
import {
  DEFAULT_TIMEOUTS,
  type DeviceClientApi,
  type DeviceClientEvents,
  type DeviceClientOptions,
  type DeviceClientStats,
  type DeviceTimeouts,
  type EffectLists,
  type RequestDiagnostics,
  type RequestOptions,
  type RequestResult,
  type WledInfo,
  type WledState,
} from './types';
import { validatorFor, expectStringList, expectObject, type Validator } from './validate';

export type { DeviceClientOptions } from './types';

/** Default queue limit: jobs waiting behind the ones on the wire. */
const DEFAULT_QUEUE_LIMIT = 20;

/** Default grace for the request on the wire when the client closes, in milliseconds. */
const DEFAULT_CLOSE_GRACE_MS = 1000;

/** Smallest gap between write starts while the device is degraded, in milliseconds. A WLED
 *  maintainer estimates that an ESP8266 handles about 10 requests per second, so a
 *  struggling device gets at most half of that from one client. */
const DEGRADED_WRITE_SPACING_MS = 200;

/** Largest request body WLED's JSON handler takes: 16384 bytes or more are rejected with
 *  400 or 413 (AsyncJson handler, 0.13 to 16.x). */
const MAX_REQUEST_BODY_BYTES = 16383;

export class DeviceClient implements DeviceClientApi {
  readonly name: string;

  private readonly options: DeviceClientOptions;
  private readonly timeouts: DeviceTimeouts;
  private readonly emitter = new EventEmitter();
  private readonly transport: Transport;
  private readonly lane: RequestLane;
  private readonly lifecycle: ConnectionLifecycle;
  private readonly closeController = new AbortController();
  private readonly closeGraceMs: number;

  private closePromise: Promise<void> | undefined;

  private readonly identity = new DeviceIdentity();
  private lists: EffectLists | undefined;
  /** Bumped on reboot or version change, so lists fetched across one are not cached. */
  private listsGeneration = 0;
  /** The load of the effect lists that callers without an abort signal share. */
  private listsLoading: Promise<EffectLists> | undefined;

  private readonly counters = new ClientCounters();
  private readonly runner: JobRunner;

  constructor(options: DeviceClientOptions) {
    this.options = options;
    this.name = options.name;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;

    const maxInFlight = options.maxInFlight === 2 ? 2 : 1;
    this.transport = new Transport({
      device: options.name,
      baseUrl: options.baseUrl,
      username: options.username,
      password: options.password,
      timeouts: this.timeouts,
      maxSockets: maxInFlight,
      lenientParser: options.lenientParser,
      acceptAnyCertificate: options.acceptAnyCertificate,
    });

    const minSpacing = options.minWriteSpacingMs ?? 0;
    this.lane = new RequestLane({
      maxInFlight,
      queueLimit: options.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      writeSpacingMs: () =>
        this.lifecycle.state === 'degraded'
          ? Math.max(minSpacing, DEGRADED_WRITE_SPACING_MS)
          : minSpacing,
      run: (job) => this.runner.run(job),
      complete: (job) => this.completeJob(job),
    });

    const recovery: RecoveryOptions = { ...DEFAULT_RECOVERY, ...options.recovery };
    this.lifecycle = new ConnectionLifecycle(options.name, recovery, {
      onChange: (change) => this.onStateChange(change),
      probe: () => this.startProbe(),
    });

    this.runner = new JobRunner({
      name: options.name,
      timeouts: this.timeouts,
      logger: options.logger,
      transport: this.transport,
      lifecycle: this.lifecycle,
      identity: this.identity,
      counters: this.counters,
      closeSignal: this.closeController.signal,
      observeDocument: (path, data) => this.observeDocument(path, data),
    });
  }

  get state(): ConnectionState {
    return this.lifecycle.state;
  }

  on<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): this {
    this.emitter.off(event, listener);
    return this;
  }

  read(resource: ResourceName, options: RequestOptions = {}): Promise<RequestResult<unknown>> {
    if (!isResourceName(resource)) {
      return Promise.reject(
        invalidInput('input.unknown-resource', {
          resource: JSON.stringify(resource),
          names: Object.keys(RESOURCE_PATHS).join(', '),
        }),
      );
    }
    return this.readPath(RESOURCE_PATHS[resource], options);
  }

  setState(patch: WledState, options: RequestOptions = {}): Promise<RequestResult<WledState>> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      return Promise.reject(invalidInput('input.patch-not-object', { value: describe(patch) }));
    }

    const rejection = this.rejectionBeforeQueue('POST', '/json/state', true);
    if (rejection !== undefined) {
      return Promise.reject(rejection);
    }

    // The client adds `"v": true` itself when it sends the merged patch.
    const body = { ...patch };
    delete body.v;
    // One serialization checks both that the body is JSON and that WLED takes its size.
    const bytes = jsonByteLength({ ...body, v: true });
    if (typeof bytes === 'string') {
      return Promise.reject(invalidInput('input.patch-not-json', { problem: bytes }));
    }
    if (bytes > MAX_REQUEST_BODY_BYTES) {
      // NOTE: merged patches are not measured again. Two large patches merged in the lane can
      // still exceed the limit, and the device then responds with 413 (class http).
      return Promise.reject(
        invalidInput('input.patch-too-large', { bytes, max: MAX_REQUEST_BODY_BYTES }),
      );
    }
    const classification = classifyPatch(body);
    const settleWrite = this.beginWriteHook(body);

    const result = new Promise<RequestResult<WledState>>((resolve, reject) => {
      const caller = this.createCaller<WledState>(
        'POST',
        '/json/state',
        options.signal,
        resolve,
        reject,
      );
      if (caller === undefined) {
        return;
      }

      if (classification.mergeable) {
        const merged = this.lane.mergeWrite(body, caller);
        if (merged !== undefined) {
          this.watchCaller(merged, caller, options.signal);
          return;
        }
      }

      if (!classification.mergeable) {
        this.options.logger.debug(
          `${this.name}: write is a barrier in the lane: ${classification.reasons.join('; ')}`,
        );
      }
      const job: Job = {
        kind: 'write',
        method: 'POST',
        path: '/json/state',
        patch: body,
        writes: [{ caller, patch: body }],
        classification,
        validate: expectObject,
        callers: [caller],
        mergedWrites: 1,
        started: false,
      };
      this.enqueueJob(job, caller, options.signal);
    });

    if (settleWrite !== undefined) {
      result.then(
        ({ data }) => this.settleWriteHook(settleWrite, data),
        () => this.settleWriteHook(settleWrite),
      );
    }
    return result;
  }

  /** Calls the `onWrite` hook; a hook that throws is logged and the write goes on without it. */
  private beginWriteHook(patch: WledState): ((response?: WledState) => void) | undefined {
    try {
      return this.options.onWrite?.(patch);
    } catch (error) {
      this.options.logger.error(`${this.name}: the write hook failed: ${String(error)}`);
      return undefined;
    }
  }

  /** Calls the function the `onWrite` hook returned; it runs detached from the caller's
   *  promise, so a throw is logged here instead of becoming an unhandled rejection. */
  private settleWriteHook(settle: (response?: WledState) => void, response?: WledState): void {
    try {
      settle(response);
    } catch (error) {
      this.options.logger.error(`${this.name}: settling the write hook failed: ${String(error)}`);
    }
  }

  async effectLists(options: RequestOptions = {}): Promise<EffectLists> {
    if (this.lists !== undefined) {
      return this.lists;
    }
    if (options.signal !== undefined) {
      return this.loadEffectLists(options);
    }

    // Messages that arrive together share one load instead of reading the lists once each.
    if (this.listsLoading === undefined) {
      const loading: Promise<EffectLists> = this.loadEffectLists(options).finally(() => {
        // A reboot may have started a newer load meanwhile, which stays shared.
        if (this.listsLoading === loading) {
          this.listsLoading = undefined;
        }
      });
      this.listsLoading = loading;
    }
    return this.listsLoading;
  }

  private async loadEffectLists(options: RequestOptions): Promise<EffectLists> {
    const generation = this.listsGeneration;
    const effects = (await this.readPath('/json/eff', options, expectStringList)).data as string[];
    const palettes = (await this.readPath('/json/pal', options, expectStringList)).data as string[];

    // WLED 0.13 has no /json/fxdata and responds with 501.
    const fxdata = (await this.readPath('/json/fxdata', options, expectStringList, true)).data as
      string[] | undefined;

    const lists: EffectLists =
      fxdata === undefined ? { effects, palettes } : { effects, palettes, fxdata };
    if (generation === this.listsGeneration) {
      this.lists = lists;
    }
    return lists;
  }

  stats(): DeviceClientStats {
    return {
      state: this.lifecycle.state,
      since: this.lifecycle.since,
      requests: this.counters.requests,
      successes: this.counters.successes,
      failuresByClass: { ...this.counters.failuresByClass },
      retries: this.counters.retries,
      mergedWrites: this.lane.mergedWrites,
      queueDepth: this.lane.queueDepth,
      inFlight: this.lane.inFlight,
      lastError: this.counters.lastError,
      latencyMs: this.counters.latencyMs,
      mac: this.identity.mac,
      version: this.identity.version,
    };
  }

  /**
   * Reads `/json/si`, the state and info without the effect and palette lists that `/json`
   * carries, through the lane. The live state feed polls with it while its WebSocket is down.
   */
  readStateAndInfo(
    options: RequestOptions = {},
  ): Promise<RequestResult<{ state: WledState; info: WledInfo }>> {
    return this.readPath('/json/si', options, validatorFor(RESOURCE_PATHS.full)) as Promise<
      RequestResult<{ state: WledState; info: WledInfo }>
    >;
  }

  /**
   * Feeds the live WebSocket's health into the connection state. A failure (connection refused
   * or timed out, closed for lack of memory) counts like a failed request in the state but not
   * in the request counters; the live feed counts its own failures. A delivered message counts
   * as a success only before any request has completed. Afterwards request outcomes decide,
   * and any message while the device is unreachable starts the probe at once.
   */
  recordLiveChannel(error?: WledError): void {
    if (this.lifecycle.ended) {
      return;
    }
    if (error === undefined) {
      if (this.lifecycle.state === 'idle') {
        this.lifecycle.recordSuccess(0);
      } else if (this.lifecycle.state === 'unreachable') {
        this.lifecycle.probeNow('the WebSocket delivered a message, checking the device');
      }
      return;
    }
    this.lifecycle.recordFailure(error);
  }

  /**
   * Checks a `{state, info}` document that the live WebSocket delivered, as responses are
   * checked: another MAC marks the wrong device, and a reboot or firmware change drops the
   * cached effect and palette lists and emits `reboot`.
   */
  observeLiveDocument(document: { state: WledState; info?: WledInfo }): void {
    if (!this.lifecycle.ended) {
      this.observeDocument('/json/si', document);
    }
  }

  /** Socket counts of the client's agent (active, idle in the pool, waiting for a socket). */
  socketCounts(): { active: number; free: number; queued: number } {
    return this.transport.socketCounts();
  }

  close(): Promise<void> {
    this.closePromise ??= this.shutDown();
    return this.closePromise;
  }

  // ---------------------------------------------------------------------------------------
  // Submitting work

  private readPath(
    path: string,
    options: RequestOptions,
    validate: Validator = validatorFor(path),
    optional = false,
  ): Promise<RequestResult<unknown>> {
    const rejection = this.rejectionBeforeQueue('GET', path, false);
    if (rejection !== undefined) {
      return Promise.reject(rejection);
    }

    return new Promise<RequestResult<unknown>>((resolve, reject) => {
      const caller = this.createCaller('GET', path, options.signal, resolve, reject);
      if (caller === undefined) {
        return;
      }

      const shared = this.lane.findSharedRead(path, options.fresh === true);
      if (shared !== undefined) {
        shared.callers.push(caller);
        this.watchCaller(shared, caller, options.signal);
        return;
      }

      const job: Job = {
        kind: 'read',
        method: 'GET',
        path,
        validate,
        optional,
        callers: [caller],
        mergedWrites: 1,
        started: false,
      };
      this.enqueueJob(job, caller, options.signal);
    });
  }

  /** Returns the error a call gets without being queued, or undefined when it may queue. */
  private rejectionBeforeQueue(
    method: 'GET' | 'POST',
    path: string,
    write: boolean,
  ): WledError | undefined {
    const reject = (errorClass: ErrorClass, what: MessageText): WledError =>
      requestError(errorClass, this.name, { method, path }, what, { attempts: 0 });

    let error: WledError | undefined;
    if (this.lifecycle.ended) {
      error = reject('closed', messageText('client.closed'));
    } else if (write && this.lifecycle.state === 'wrong-device') {
      error = reject('wrong-device', this.identity.describeOtherDevice());
    } else if (this.lifecycle.failingFast) {
      const next = this.lifecycle.nextProbeAt;
      const seconds = next === undefined ? 0 : Math.round((next - Date.now()) / 1000);
      const since = new Date(this.lifecycle.unreachableSince ?? this.lifecycle.since).toISOString();
      error = reject(
        'unreachable',
        seconds >= 1
          ? messageText('client.unreachable-check-in', { since, seconds })
          : messageText('client.unreachable-check-running', { since }),
      );
    }

    if (error !== undefined) {
      this.counters.recordFailure(error);
    }
    return error;
  }

  private createCaller<T>(
    method: 'GET' | 'POST',
    path: string,
    signal: AbortSignal | undefined,
    resolve: (result: RequestResult<T>) => void,
    reject: (error: WledError) => void,
  ): Caller | undefined {
    if (signal?.aborted) {
      const error = requestError(
        'cancelled',
        this.name,
        { method, path },
        messageText('client.aborted'),
        { attempts: 0 },
      );
      this.counters.recordFailure(error);
      reject(error);
      return undefined;
    }

    return {
      calledAt: Date.now(),
      queueDepth: this.lane.queueDepth,
      resolve: (data, diagnostics) => resolve({ data: data as T, diagnostics }),
      reject,
    };
  }

  /** Arms the caller's queue timer and abort listener for the job it waits on. */
  private watchCaller(job: Job, caller: Caller, signal: AbortSignal | undefined): void {
    const withdraw = (errorClass: ErrorClass, what: MessageText): void => {
      if (!job.callers.includes(caller)) {
        return;
      }
      this.lane.withdraw(job, caller);
      releaseCaller(caller);
      const error = requestError(errorClass, this.name, job, what, {
        attempts: job.started ? undefined : 0,
        elapsedMs: Date.now() - caller.calledAt,
      });
      this.counters.recordFailure(error);
      caller.reject(error);
    };

    // A caller waits in the queue no longer than the total deadline of a request.
    if (!job.started) {
      caller.queueTimer = setTimeout(
        () =>
          withdraw('timeout', messageText('client.queue-timeout', { ms: this.timeouts.totalMs })),
        this.timeouts.totalMs,
      );
    }
    if (signal !== undefined) {
      const onAbort = (): void => withdraw('cancelled', messageText('client.aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      caller.detachAbort = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /** Queues a new job for its first caller, or rejects the caller when the queue is full.
   *  Calls that share a read or merge into a write never reach this, so they are never
   *  rejected for a full queue. */
  private enqueueJob(job: Job, caller: Caller, signal: AbortSignal | undefined): void {
    if (this.lane.full) {
      const error = requestError(
        'overloaded',
        this.name,
        job,
        messageText('client.queue-full', { depth: this.lane.queueDepth }),
        { attempts: 0 },
      );
      this.counters.recordFailure(error);
      caller.reject(error);
      return;
    }
    // Enqueued first: a job that the lane starts at once (the usual case) then gets no queue
    // timer to arm and clear. The lane settles callers asynchronously, so none is missed.
    this.lane.enqueue(job);
    this.watchCaller(job, caller, signal);
  }

  // ---------------------------------------------------------------------------------------
  // Settling callers

  private completeJob(job: Job): void {
    const outcome: JobOutcome = job.outcome ?? {
      error: requestError('closed', this.name, job, messageText('client.was-closed')),
      attempts: 0,
      reusedSocket: false,
    };
    const callers = job.callers.splice(0, job.callers.length);

    if (outcome.error !== undefined) {
      this.counters.recordCallError(outcome.error);
    }

    for (const caller of callers) {
      releaseCaller(caller);
      const diagnostics: RequestDiagnostics = {
        method: job.method,
        path: job.path,
        attempts: outcome.attempts,
        reusedSocket: outcome.reusedSocket,
        ttfbMs: outcome.ttfbMs,
        totalMs: Date.now() - caller.calledAt,
        queueDepth: caller.queueDepth,
        mergedWrites: job.mergedWrites,
        status: outcome.status,
        errorClass: outcome.error?.errorClass,
      };
      if (outcome.error === undefined) {
        caller.resolve(outcome.data, diagnostics);
      } else {
        caller.reject(errorForCaller(outcome.error, diagnostics));
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // What the responses show about the device

  private observeDocument(path: string, data: unknown): void {
    for (const finding of this.identity.observe(path, data)) {
      this.applyFinding(finding);
    }
  }

  private applyFinding(finding: IdentityFinding): void {
    switch (finding.kind) {
      case 'other-device':
        this.options.logger.warn(
          `${this.name}: the device at ${this.options.baseUrl} now reports MAC ${finding.mac} instead of ${finding.expectedMac}; writes are rejected until the node is redeployed`,
        );
        this.lifecycle.markWrongDevice(
          `the device at the address reports MAC ${finding.mac} instead of ${finding.expectedMac}`,
        );
        return;
      case 'reboot':
        this.options.logger.log(
          `${this.name}: the device rebooted (uptime ${finding.previousUptime} s before, ${finding.uptime} s now); effect and palette lists will be fetched again`,
        );
        this.dropLists();
        this.emitter.emit('reboot', {
          uptime: finding.uptime,
          previousUptime: finding.previousUptime,
        });
        return;
      case 'version-changed':
        this.options.logger.log(
          `${this.name}: the firmware version changed from ${finding.from} to ${finding.to}; effect and palette lists will be fetched again`,
        );
        this.dropLists();
        return;
    }
  }

  private dropLists(): void {
    this.lists = undefined;
    this.listsLoading = undefined;
    this.listsGeneration += 1;
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  private onStateChange(change: StateChange): void {
    this.options.logger.debug(
      `${this.name}: connection ${change.from} -> ${change.to}: ${change.reason}${change.errorClass === undefined ? '' : ` (${change.errorClass})`}`,
    );

    if (change.to === 'unreachable') {
      // Calls waiting for a device that does not respond would only time out one by one.
      for (const job of this.lane.drain()) {
        this.rejectJob(job, 'unreachable', messageText('client.stopped-responding'));
      }
    }
    this.emitter.emit('state', change);
  }

  private startProbe(): void {
    this.lane.enqueueFirst(probeJob(RESOURCE_PATHS.info, validatorFor(RESOURCE_PATHS.info), false));
  }

  private async shutDown(): Promise<void> {
    this.lifecycle.beginClosing();

    for (const job of this.lane.drain()) {
      this.rejectJob(job, 'closed', messageText('client.closed-before-sent'));
    }
    this.lane.stop();

    if (this.lane.inFlight > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, this.closeGraceMs);
      });
      await Promise.race([this.lane.whenIdle(), graceOver]);
      clearTimeout(graceTimer);
    }
    this.closeController.abort();
    await this.lane.whenIdle();

    await this.transport.destroy();
    this.lifecycle.markClosed();
    this.emitter.removeAllListeners();
  }

  // ---------------------------------------------------------------------------------------
  // Errors and counters

  private rejectJob(job: Job, errorClass: ErrorClass, what: MessageText): void {
    const callers = job.callers.splice(0, job.callers.length);
    for (const caller of callers) {
      releaseCaller(caller);
      const error = requestError(errorClass, this.name, job, what, {
        attempts: 0,
        elapsedMs: Date.now() - caller.calledAt,
      });
      this.counters.recordFailure(error);
      caller.reject(error);
    }
  }
}

function releaseCaller(caller: Caller): void {
  clearTimeout(caller.queueTimer);
  caller.queueTimer = undefined;
  caller.detachAbort?.();
  caller.detachAbort = undefined;
}

/** Copies a job's error with the figures of one caller: merged callers waited different times. */
function errorForCaller(error: WledError, diagnostics: RequestDiagnostics): WledError {
  return withDetails(error, {
    attempts: diagnostics.attempts,
    elapsedMs: diagnostics.totalMs,
    reusedSocket: diagnostics.reusedSocket,
    ttfbMs: diagnostics.ttfbMs,
    queueDepth: diagnostics.queueDepth,
    mergedWrites: diagnostics.mergedWrites,
  });
}

/** Returns why `value` cannot be sent as JSON, or undefined when it can. */
/** Returns the size of `value` as JSON in bytes, or why it cannot be serialized. */
function jsonByteLength(value: unknown): number | string {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return `${typeof value} ${JSON.stringify(value)}`;
}
