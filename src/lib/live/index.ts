/**
 * The live state of one device: a WebSocket to `/ws` while at least one node wants live
 * updates, `/json/si` polls through the client's request lane while the WebSocket cannot be
 * used, and the latest-state cache that both feed. The device config node owns one
 * `LiveDevice`; flow nodes subscribe to it and never touch the transports.
 */

import type { WledState } from '../client/types';
import type { StateChange } from '../connection-state';
import { ERROR_CLASS_INFO, isWledError, type ErrorClass, type WledError } from '../errors';
import { CLOSE_TRY_AGAIN_LATER, WebSocketChannel, webSocketUrl, type ChannelEnd } from './channel';
import { StateTracker } from './tracker';
import type { CachedState, LiveEvent, LiveMode, LiveModeChange, LiveOptions } from './types';

export * from './types';
export { changedPaths, pathMatches, parsePathList } from './paths';

/** Settings a device gets when its options leave them out; times in milliseconds. */
export const DEFAULT_LIVE_SETTINGS = {
  pollIntervalMs: 15_000,
  heartbeatMs: 20_000,
  connectTimeoutMs: 3000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 30_000,
  stableAfterMs: 30_000,
  ownWriteWindowMs: 2500,
};

type LiveSettings = typeof DEFAULT_LIVE_SETTINGS;

/** Failures of the WebSocket that show whether the device is reachable. Evictions
 *  (`dropped`) and rejected upgrades (`http`) do not, because the device replied. */
const HEALTH_CLASSES: ReadonlySet<ErrorClass> = new Set(['unreachable', 'timeout', 'overloaded']);

/** Extra reconnect steps after close code 1013, so an out-of-memory device gets a longer rest. */
const TRY_AGAIN_LATER_EXTRA_STEPS = 2;

/** Callbacks of a subscribed node. */
export interface LiveListener {
  change(event: LiveEvent): void;
  mode?(change: LiveModeChange): void;
}

/** Counters and the current channel, for diagnostics. */
export interface LiveStats {
  mode: LiveMode;
  /** Epoch milliseconds since the feed has been in `mode`. */
  since: number;
  subscribers: number;
  webSocketOpens: number;
  webSocketFailures: number;
  pushes: number;
  polls: number;
  pollFailures: number;
  events: number;
  lastFailure?: { errorClass: ErrorClass; message: string; at: number };
  /** Age of the cached state in milliseconds, when there is one. */
  cacheAgeMs?: number;
}

export class LiveDevice {
  readonly name: string;

  private readonly options: LiveOptions;
  private readonly settings: LiveSettings;
  private readonly tracker: StateTracker;
  private readonly listeners = new Set<LiveListener>();
  private readonly random: () => number;

  private currentMode: LiveMode = 'stopped';
  private modeSince = Date.now();
  private closed = false;

  private channel: WebSocketChannel | undefined;
  private channelClosing: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectStep = 0;

  private polling = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollAbort: AbortController | undefined;
  private pollInFlight: Promise<void> | undefined;

  private readonly counters = {
    webSocketOpens: 0,
    webSocketFailures: 0,
    pushes: 0,
    polls: 0,
    pollFailures: 0,
    events: 0,
  };
  private lastFailure: LiveStats['lastFailure'];

  constructor(options: LiveOptions) {
    this.options = options;
    this.name = options.name;
    this.settings = {
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_LIVE_SETTINGS.pollIntervalMs,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_LIVE_SETTINGS.heartbeatMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_LIVE_SETTINGS.connectTimeoutMs,
      reconnectBaseMs: options.reconnectBaseMs ?? DEFAULT_LIVE_SETTINGS.reconnectBaseMs,
      reconnectMaxMs: options.reconnectMaxMs ?? DEFAULT_LIVE_SETTINGS.reconnectMaxMs,
      stableAfterMs: options.stableAfterMs ?? DEFAULT_LIVE_SETTINGS.stableAfterMs,
      ownWriteWindowMs: options.ownWriteWindowMs ?? DEFAULT_LIVE_SETTINGS.ownWriteWindowMs,
    };
    this.random = options.random ?? Math.random;
    this.tracker = new StateTracker(options.name, this.settings.ownWriteWindowMs);
  }

  get mode(): LiveMode {
    return this.currentMode;
  }

  /** The latest state and info from pushes, polls and write responses; none while stopped. */
  get latest(): CachedState | undefined {
    return this.tracker.latest;
  }

  /**
   * Adds a node that wants live updates and returns the function that removes it. The first
   * subscriber starts the feed and the last one to leave stops it. A subscriber that arrives
   * while the feed already has a state gets that state at once, marked as the initial resync.
   */
  subscribe(listener: LiveListener): () => void {
    if (this.closed) {
      return () => undefined;
    }
    this.listeners.add(listener);

    if (this.listeners.size === 1) {
      this.start();
    } else {
      this.sendCachedState(listener);
    }

    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) {
        void this.stop('no node wants live updates any more');
      }
    };
  }

  /**
   * Registers a write of this client before it is sent, so that the changes it causes are
   * marked `own-write`. Call the returned function with the device's response (its new state),
   * or with nothing when the write failed.
   */
  beginWrite(patch: WledState): (response?: WledState) => void {
    if (this.currentMode === 'stopped') {
      return () => undefined;
    }
    const settle = this.tracker.beginWrite(patch);
    return (response) => {
      const event = settle(response);
      if (event !== undefined && this.currentMode !== 'stopped') {
        this.emit(event);
      }
    };
  }

  /**
   * Follows the device's connection state, which request outcomes drive. While polling, an
   * unreachable device shows as disconnected at once instead of at the next poll, and the next
   * state it reports is a resync. A live WebSocket is left to its own heartbeat.
   */
  followConnectionState(change: StateChange): void {
    if (change.to !== 'unreachable' || this.currentMode !== 'polling') {
      return;
    }
    this.tracker.markGap();
    this.setMode(
      'disconnected',
      `the device stopped answering requests: ${change.reason}`,
      change.errorClass,
    );
  }

  stats(): LiveStats {
    const latest = this.tracker.latest;
    const stats: LiveStats = {
      mode: this.currentMode,
      since: this.modeSince,
      subscribers: this.listeners.size,
      ...this.counters,
    };
    if (this.lastFailure !== undefined) {
      stats.lastFailure = this.lastFailure;
    }
    if (latest !== undefined) {
      stats.cacheAgeMs = Date.now() - latest.updatedAt;
    }
    return stats;
  }

  /** Stops the WebSocket, the poll and every timer. Resolves when the socket is closed and the
   *  poll in flight has settled. Later subscriptions are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.stop('the device node is closing');
  }

  // ---------------------------------------------------------------------------------------
  // Starting and stopping

  private start(): void {
    this.setMode('connecting', 'a node wants live updates');
    if (this.options.useWebSocket === false) {
      this.startPolling();
      return;
    }
    this.openChannel();
  }

  private async stop(reason: string): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.reconnectStep = 0;
    this.stopPolling();

    const channel = this.channel;
    this.channel = undefined;
    if (channel !== undefined) {
      this.channelClosing = channel.close();
    }

    this.tracker.reset();
    this.setMode('stopped', reason);

    await Promise.all([this.channelClosing, this.pollInFlight]);
  }

  private get running(): boolean {
    return this.currentMode !== 'stopped';
  }

  // ---------------------------------------------------------------------------------------
  // WebSocket

  private openChannel(): void {
    const { username, password } = this.options;
    const channel = new WebSocketChannel(
      {
        device: this.name,
        url: webSocketUrl(this.options.baseUrl),
        auth: username ? `${username}:${password ?? ''}` : undefined,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        heartbeatMs: this.settings.heartbeatMs,
        logger: this.options.logger,
      },
      {
        document: (document, first) => {
          if (this.channel !== channel) {
            return;
          }
          if (first) {
            this.onChannelLive();
          }
          this.counters.pushes += 1;
          this.observe(this.tracker.observe(document, 'websocket'));
        },
        end: (end) => {
          if (this.channel === channel) {
            this.channel = undefined;
            this.onChannelEnd(end);
          }
        },
      },
    );
    this.channel = channel;
  }

  private onChannelLive(): void {
    this.counters.webSocketOpens += 1;
    this.stopPolling();
    this.options.health?.reachable();
    this.setMode('websocket', 'the WebSocket delivered the state');
  }

  private onChannelEnd(end: ChannelEnd): void {
    if (!this.running) {
      return;
    }
    const error = end.error;
    if (error !== undefined) {
      this.recordFailure(error);
      this.counters.webSocketFailures += 1;
      if (HEALTH_CLASSES.has(error.errorClass)) {
        this.options.health?.failed(error);
      }
    }

    if (end.openMs >= this.settings.stableAfterMs) {
      this.reconnectStep = 0;
    }
    if (end.code === CLOSE_TRY_AGAIN_LATER) {
      this.reconnectStep += TRY_AGAIN_LATER_EXTRA_STEPS;
    }

    const why = error === undefined ? 'the WebSocket closed' : this.reasonOf(error);
    if (end.delivered) {
      // Changes made while no channel was up are unknown, so the next state resynchronises.
      this.tracker.markGap();
      this.setMode('disconnected', why, error?.errorClass);
    } else {
      this.options.logger.debug(`${this.name}: ${why}`);
    }

    this.startPolling();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const stepMs = Math.min(
      this.settings.reconnectMaxMs,
      this.settings.reconnectBaseMs * 2 ** this.reconnectStep,
    );
    // Equal jitter, as the client's probes use: between half and all of the step.
    const delayMs = Math.round(stepMs / 2 + (this.random() * stepMs) / 2);
    if (stepMs < this.settings.reconnectMaxMs) {
      this.reconnectStep += 1;
    }

    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running && this.channel === undefined) {
        this.openChannel();
      }
    }, delayMs);
  }

  // ---------------------------------------------------------------------------------------
  // Polling

  private startPolling(): void {
    if (this.polling) {
      return;
    }
    this.polling = true;
    this.poll();
  }

  private stopPolling(): void {
    this.polling = false;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.pollAbort?.abort();
    this.pollAbort = undefined;
  }

  private poll(): void {
    const abort = new AbortController();
    this.pollAbort = abort;
    this.counters.polls += 1;

    this.pollInFlight = this.options
      .readStateAndInfo(abort.signal)
      .then(
        (document) => {
          if (this.pollAbort === abort && this.polling) {
            this.setMode('polling', 'the WebSocket cannot be used, so /json/si is polled');
            this.observe(this.tracker.observe(document, 'poll'));
          }
        },
        (error: unknown) => {
          if (this.pollAbort === abort && this.polling) {
            this.onPollFailed(error);
          }
        },
      )
      .finally(() => {
        if (this.pollAbort !== abort) {
          return;
        }
        this.pollAbort = undefined;
        this.pollInFlight = undefined;
        if (this.polling) {
          this.pollTimer = setTimeout(() => {
            this.pollTimer = undefined;
            if (this.polling) {
              this.poll();
            }
          }, this.settings.pollIntervalMs);
        }
      });
  }

  private onPollFailed(error: unknown): void {
    this.counters.pollFailures += 1;
    const errorClass = isWledError(error) ? error.errorClass : undefined;
    if (isWledError(error)) {
      this.recordFailure(error);
    }
    this.tracker.markGap();

    const why = isWledError(error) ? this.reasonOf(error) : String(error);
    this.setMode('disconnected', `polling /json/si failed: ${why}`, errorClass);
  }

  // ---------------------------------------------------------------------------------------
  // Events

  private observe(event: LiveEvent | undefined): void {
    if (event !== undefined) {
      this.emit(event);
    }
  }

  private emit(event: LiveEvent): void {
    this.counters.events += 1;
    for (const listener of [...this.listeners]) {
      this.deliver(listener, event);
    }
  }

  /** Hands an event to one listener; a listener that throws is logged and the others still run. */
  private deliver(listener: LiveListener, event: LiveEvent): void {
    try {
      listener.change(event);
    } catch (error) {
      this.options.logger.error(`${this.name}: a live state listener failed: ${String(error)}`);
    }
  }

  private sendCachedState(listener: LiveListener): void {
    const latest = this.tracker.latest;
    if (latest === undefined) {
      return;
    }
    const event: LiveEvent = {
      device: this.name,
      state: latest.state,
      changed: Object.keys(latest.state).sort(),
      origin: 'device',
      source: latest.source,
      resync: 'initial',
      at: latest.updatedAt,
    };
    if (latest.info !== undefined) {
      event.info = latest.info;
    }
    // Deliver after the subscriber's setup has finished, as a push would arrive.
    setImmediate(() => {
      if (this.listeners.has(listener) && this.running) {
        this.deliver(listener, event);
      }
    });
  }

  private setMode(to: LiveMode, reason: string, errorClass?: ErrorClass): void {
    const from = this.currentMode;
    if (from === to) {
      return;
    }
    this.currentMode = to;
    this.modeSince = Date.now();

    const line = `${this.name}: live state ${from} -> ${to}: ${reason}`;
    if (to === 'disconnected') {
      this.options.logger.warn(line);
    } else {
      this.options.logger.log(line);
    }

    const change: LiveModeChange = { device: this.name, from, to, reason, at: this.modeSince };
    if (errorClass !== undefined) {
      change.errorClass = errorClass;
    }
    for (const listener of [...this.listeners]) {
      listener.mode?.(change);
    }
  }

  /** Returns the error's message without the device name in front and the advice behind. */
  private reasonOf(error: WledError): string {
    const message = firstSentence(error);
    const prefix = `${this.name}: `;
    return message.startsWith(prefix) ? message.slice(prefix.length) : message;
  }

  private recordFailure(error: WledError): void {
    this.lastFailure = { errorClass: error.errorClass, message: error.message, at: Date.now() };
  }
}

/** Returns the message of an error without the advice sentence that `WledError` appends. */
function firstSentence(error: WledError): string {
  const suffix = `. ${ERROR_CLASS_INFO[error.errorClass].advice}`;
  return error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}
