/**
 * The live state of one device: a WebSocket to `/ws` while at least one node wants live
 * updates, `/json/si` polls through the client's request lane while the WebSocket cannot be
 * used, and the latest-state cache that both feed. The device config node owns one
 * `LiveDevice`; flow nodes subscribe to it and never touch the transports.
 */

import { backoffDelay, DEFAULT_RECOVERY } from '../client/lifecycle';
import type { WledInfo, WledState } from '../client/types';
import type { StateChange } from '../connection-state';
import { isWledError, type ErrorClass, type WledError } from '../errors';
import { renderMessage } from '../messages';
import {
  CLOSE_NO_STATUS,
  CLOSE_TRY_AGAIN_LATER,
  WebSocketChannel,
  webSocketUrl,
  type ChannelEnd,
} from './channel';
import { describeClientLimit, webSocketClientLimit, webSocketClients } from './client-limit';
import { StateTracker } from './tracker';
import type { CachedState, LiveEvent, LiveMode, LiveModeChange, LiveOptions } from './types';

export * from './types';
export { changedPaths, pathMatches, parsePathList } from './paths';

/** Settings a device gets when its options leave them out; times in milliseconds. */
export const DEFAULT_LIVE_SETTINGS = {
  pollIntervalMs: 15_000,
  heartbeatMs: 20_000,
  connectTimeoutMs: 3000,
  reconnectBaseMs: DEFAULT_RECOVERY.backoffBaseMs,
  reconnectMaxMs: DEFAULT_RECOVERY.backoffMaxMs,
  clientLimitRetryMs: 600_000,
  stableAfterMs: 30_000,
  ownWriteWindowMs: 2500,
};

type LiveSettings = typeof DEFAULT_LIVE_SETTINGS;

/**
 * WebSocket failures passed on to the client's connection state. `unreachable` (no connection
 * could be opened) counts towards the device's unreachable state, and `overloaded` (a 1013
 * close: the device ran out of memory) degrades it. Resets, evictions, HTTP replies to the
 * upgrade and a silent heartbeat say nothing reliable about HTTP requests, so they stay here.
 */
const DEVICE_HEALTH_CLASSES: ReadonlySet<ErrorClass> = new Set(['unreachable', 'overloaded']);

/** Close codes of an open socket that the device closed on its own accord. WLED does that
 *  to its oldest client when a new one exceeds the client limit. */
const EVICTION_CODES: ReadonlySet<number> = new Set([1000, CLOSE_NO_STATUS]);

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
  /** WebSocket failures by class; the client's request counters do not include them. */
  webSocketFailuresByClass: Partial<Record<ErrorClass, number>>;
  /** Whether the feed polls because the device's WebSocket client limit was reached. */
  clientLimitReached: boolean;
  pushes: number;
  polls: number;
  pollFailures: number;
  events: number;
  lastFailure?: { errorClass: ErrorClass; message: string; at: number };
  /** Milliseconds since the cached state was last confirmed current, when there is one. */
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
  /** Set when the client found another device at the address; the feed stays disconnected
   *  until the device node is redeployed, as the client does. */
  private wrongDevice: StateChange | undefined;

  private channel: WebSocketChannel | undefined;
  private channelClosing: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectStep = 0;
  /** Epoch milliseconds when the WebSocket client limit was found reached; unset otherwise. */
  private clientLimitSince: number | undefined;
  /** Info of the last poll since the WebSocket ended, which shows the device's client count. */
  private polledInfo: WledInfo | undefined;

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
  private readonly webSocketFailuresByClass: Partial<Record<ErrorClass, number>> = {};
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
      clientLimitRetryMs: options.clientLimitRetryMs ?? DEFAULT_LIVE_SETTINGS.clientLimitRetryMs,
      stableAfterMs: options.stableAfterMs ?? DEFAULT_LIVE_SETTINGS.stableAfterMs,
      ownWriteWindowMs: options.ownWriteWindowMs ?? DEFAULT_LIVE_SETTINGS.ownWriteWindowMs,
    };
    this.random = options.random ?? Math.random;
    this.tracker = new StateTracker(options.name, this.settings.ownWriteWindowMs);
  }

  get mode(): LiveMode {
    return this.currentMode;
  }

  /**
   * The latest state and info from pushes, polls and write responses; none while stopped. The
   * objects are the cache's own, so callers that hand them to flows must copy them.
   */
  get latest(): CachedState | undefined {
    const cached = this.tracker.latest;
    if (cached === undefined) {
      return undefined;
    }
    // A live WebSocket pushes every change, so each frame it receives (a push or a heartbeat
    // pong) confirms that the cached state is still current.
    const frameAt =
      this.currentMode === 'websocket' ? (this.channel?.lastFrameAt ?? 0) : cached.updatedAt;
    return { ...cached, confirmedAt: Math.max(cached.updatedAt, frameAt) };
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
      // The response is also the set-state node's msg.payload, which later nodes may edit.
      const event = settle(response === undefined ? undefined : structuredClone(response));
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
    if (change.to === 'wrong-device') {
      this.followWrongDevice(change);
      return;
    }
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

  /**
   * Records that the device client found a reboot, so that the next state the feed observes
   * is sent as the reboot resync. The client's identity check is the only reboot detector.
   */
  followReboot(): void {
    if (this.running) {
      this.tracker.markReboot();
    }
  }

  stats(): LiveStats {
    const latest = this.latest;
    const stats: LiveStats = {
      mode: this.currentMode,
      since: this.modeSince,
      subscribers: this.listeners.size,
      ...this.counters,
      webSocketFailuresByClass: { ...this.webSocketFailuresByClass },
      clientLimitReached: this.clientLimitSince !== undefined,
    };
    if (this.lastFailure !== undefined) {
      stats.lastFailure = this.lastFailure;
    }
    if (latest !== undefined) {
      stats.cacheAgeMs = Date.now() - latest.confirmedAt;
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
    if (this.wrongDevice !== undefined) {
      this.setMode('disconnected', this.wrongDevice.reason, 'wrong-device');
      return;
    }
    this.setMode('connecting', 'a node wants live updates');
    if (this.options.useWebSocket === false) {
      this.startPolling();
      return;
    }
    this.openChannel();
  }

  private async stop(reason: string): Promise<void> {
    this.stopTransports();
    this.reconnectStep = 0;
    this.tracker.reset();
    this.setMode('stopped', reason);

    await Promise.all([this.channelClosing, this.pollInFlight]);
  }

  /** Closes the WebSocket, stops the poll and clears the timers, without changing the mode. */
  private stopTransports(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.clientLimitSince = undefined;
    this.polledInfo = undefined;
    this.stopPolling();
    this.closeChannel();
  }

  private closeChannel(): void {
    const channel = this.channel;
    this.channel = undefined;
    if (channel !== undefined) {
      this.channelClosing = channel.close();
    }
  }

  /** Stops the feed's transports for good when another device answers at the address: its
   *  state is not this device's, and the client rejects writes until the node is redeployed. */
  private followWrongDevice(change: StateChange): void {
    this.wrongDevice = change;
    if (!this.running) {
      return;
    }
    this.stopTransports();
    this.tracker.markGap();
    this.setMode('disconnected', change.reason, 'wrong-device');
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
          this.counters.pushes += 1;
          // The client checks the document's identity first: another device at the address
          // stops the feed, and a reboot it finds marks this document as the reboot resync.
          this.options.health?.reachable(document);
          if (this.channel !== channel) {
            return;
          }
          if (first && this.pushedOutAnotherClient(document.info)) {
            this.observe(this.tracker.observe(document, 'websocket'));
            return;
          }
          if (first) {
            this.onChannelLive();
          }
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
    this.polledInfo = undefined;
    this.stopPolling();
    this.setMode('websocket', 'the WebSocket delivered the state');
  }

  /**
   * Checks the client count in the document the device sends on connect. A count above the
   * limit means that this connection made the device close its oldest client, so the feed
   * closes its socket to leave that client's slot free, and polls.
   * NOTE: this relies on `info.ws` counting the new client, as the emulator does. WLED builds
   * the document in the connect event, after the web server library has added the client.
   */
  private pushedOutAnotherClient(info: WledInfo | undefined): boolean {
    const limit = webSocketClientLimit(info);
    const clients = webSocketClients(info);
    if (limit === undefined || clients === undefined || clients <= limit) {
      return false;
    }
    this.counters.webSocketOpens += 1;
    this.closeChannel();
    this.enterClientLimit(
      `the device reported ${clients} WebSocket clients after this connection, above its limit of ${describeClientLimit(info)}, so it closes its oldest client`,
    );
    return true;
  }

  /**
   * Polls instead of using the WebSocket because the device's client limit is reached, and
   * tries the WebSocket again when a poll shows a free slot, or after `clientLimitRetryMs`.
   */
  private enterClientLimit(why: string): void {
    this.clientLimitSince = Date.now();
    this.polledInfo = undefined;
    this.setMode(
      'polling',
      `${why}; polling /json/si so that other WebSocket clients keep their connection, and trying the WebSocket again when info.ws shows a free slot`,
    );
    this.startPolling();

    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running && this.channel === undefined && this.clientLimitSince !== undefined) {
        this.leaveClientLimit(`${this.settings.clientLimitRetryMs} ms passed`);
      }
    }, this.settings.clientLimitRetryMs);
  }

  private leaveClientLimit(why: string): void {
    this.clientLimitSince = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.options.logger.log(`${this.name}: trying the WebSocket again: ${why}`);
    this.openChannel();
  }

  /**
   * Returns whether the last poll shows a free WebSocket slot. A poll right after the limit
   * was reached does not count, so that an evicted client gets one poll interval to return.
   */
  private pollShowsFreeSlot(): boolean {
    const limit = webSocketClientLimit(this.polledInfo);
    const clients = webSocketClients(this.polledInfo);
    if (limit === undefined || clients === undefined || clients < 0) {
      return false;
    }
    const waited =
      this.clientLimitSince === undefined ||
      Date.now() - this.clientLimitSince >= this.settings.pollIntervalMs;
    return waited && clients < limit;
  }

  private onChannelEnd(end: ChannelEnd): void {
    if (!this.running) {
      return;
    }
    const error = end.error;
    if (error !== undefined) {
      this.recordWebSocketFailure(error);
      if (DEVICE_HEALTH_CLASSES.has(error.errorClass)) {
        this.options.health?.failed(error);
      }
    }

    if (end.closedByDevice && end.code !== undefined && EVICTION_CODES.has(end.code)) {
      // NOTE: any close frame with 1000 or no status is taken for an eviction. WLED sends
      // one only then; a proxy that closes idle sockets this way also makes the feed poll.
      this.tracker.markGap();
      this.enterClientLimit(
        `the device closed the WebSocket (code ${end.code}), as WLED does with its oldest client when more than ${describeClientLimit(this.tracker.latest?.info)} clients connect`,
      );
      return;
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
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: WledError | undefined): void {
    const { delayMs, nextStep } = backoffDelay(
      this.reconnectStep,
      { backoffBaseMs: this.settings.reconnectBaseMs, backoffMaxMs: this.settings.reconnectMaxMs },
      this.random,
    );
    this.reconnectStep = nextStep;
    this.options.logger.debug(
      `${this.name}: reconnecting the WebSocket in ${delayMs} ms after ${error?.errorClass ?? 'a close'}`,
    );

    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.running || this.channel !== undefined) {
        return;
      }
      // A poll since the socket ended may show that the device has no slot for this client.
      const clients = webSocketClients(this.polledInfo);
      const limit = webSocketClientLimit(this.polledInfo);
      if (clients !== undefined && limit !== undefined && clients >= limit) {
        this.enterClientLimit(
          `the last poll reported ${clients} WebSocket clients, the limit of ${describeClientLimit(this.polledInfo)}`,
        );
        return;
      }
      this.openChannel();
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
            this.onPolled(document);
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

  private onPolled(document: { state: WledState; info?: WledInfo }): void {
    this.setMode('polling', 'the WebSocket cannot be used, so /json/si is polled');
    if (document.info !== undefined) {
      this.polledInfo = document.info;
    }
    this.observe(this.tracker.observe(document, 'poll'));

    if (
      this.clientLimitSince !== undefined &&
      this.channel === undefined &&
      this.pollShowsFreeSlot()
    ) {
      this.leaveClientLimit(
        `the last poll reported ${String(webSocketClients(this.polledInfo))} WebSocket clients, below the limit of ${describeClientLimit(this.polledInfo)}`,
      );
    }
  }

  private onPollFailed(error: unknown): void {
    if (isWledError(error) && error.errorClass === 'overloaded' && error.details.attempts === 0) {
      // The client's own queue was full, so the device was never asked: skip this poll.
      this.options.logger.debug(
        `${this.name}: skipped a /json/si poll because the device's request queue is full`,
      );
      return;
    }
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
    // Copies, so that a listener that edits the event cannot change the cache.
    const event: LiveEvent = {
      device: this.name,
      state: structuredClone(latest.state),
      changed: Object.keys(latest.state).sort(),
      origin: 'device',
      source: latest.source,
      resync: 'initial',
      at: latest.updatedAt,
    };
    if (latest.info !== undefined) {
      event.info = structuredClone(latest.info);
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
    const message = renderMessage(error.what);
    const prefix = `${this.name}: `;
    return message.startsWith(prefix) ? message.slice(prefix.length) : message;
  }

  private recordFailure(error: WledError): void {
    this.lastFailure = { errorClass: error.errorClass, message: error.message, at: Date.now() };
  }

  private recordWebSocketFailure(error: WledError): void {
    this.recordFailure(error);
    this.counters.webSocketFailures += 1;
    this.webSocketFailuresByClass[error.errorClass] =
      (this.webSocketFailuresByClass[error.errorClass] ?? 0) + 1;
  }
}
