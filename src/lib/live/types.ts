/**
 * Contracts of the live device state: the channel modes, the change events the state-changed
 * node turns into messages, and the options of one device's live feed.
 */

import type { Logger, WledInfo, WledState } from '../client/types';
import type { WledError } from '../errors';

/**
 * The channel through which the live feed currently learns the device's state. It is not the
 * device's connection state, which the client derives from request outcomes.
 */
export type LiveMode =
  /** No node wants live updates, so neither the WebSocket nor the poll runs. */
  | 'stopped'
  /** Started, and no push or poll has delivered a state yet. */
  | 'connecting'
  /** The WebSocket is open and has delivered the device's state. */
  | 'websocket'
  /** The WebSocket cannot be used; `/json/si` polls deliver the state. */
  | 'polling'
  /** Neither the WebSocket nor the last poll reached the device. */
  | 'disconnected';

export interface LiveModeChange {
  device: string;
  from: LiveMode;
  to: LiveMode;
  /** Reason for the change, in plain words. */
  reason: string;
  /** Class of the failure that caused the change, when a failure did. */
  errorClass?: WledError['errorClass'];
  /** Epoch milliseconds of the change. */
  at: number;
}

/** Origin of an observed state: a WebSocket push, a poll or the response to a write. */
export type ObservationSource = 'websocket' | 'poll' | 'write';

/** Reason why a message carries the full state, so that flows can resynchronise. */
export type ResyncReason =
  /** The first state seen since the feed started. */
  | 'initial'
  /** The first state after the feed lost the device (WebSocket closed, polls failed). */
  | 'reconnect'
  /** The device's uptime went backwards, so it restarted. */
  | 'reboot';

/** One observed change of the device state, or a resynchronisation. */
export interface LiveEvent {
  device: string;
  state: WledState;
  /** The state before this event; absent on the first state seen. */
  previous?: WledState;
  /** Paths that differ from `previous`, sorted (`bri`, `seg.0.fx`); all top-level keys of
   *  `state` on the first state seen. */
  changed: string[];
  /** Latest info document, when one has been seen. */
  info?: WledInfo;
  /** `own-write` when every changed path was written by this client shortly before. */
  origin: 'device' | 'own-write';
  source: ObservationSource;
  /** Set when the event resynchronises flows; then it is sent even with nothing changed. */
  resync?: ResyncReason;
  /** Epoch milliseconds of the observation. */
  at: number;
}

/** The latest state and info the feed has seen, with their age. */
export interface CachedState {
  state: WledState;
  info?: WledInfo;
  /** Epoch milliseconds of the push, poll or write response that brought `state`. */
  updatedAt: number;
  /** Epoch milliseconds since which `state` is known to be current: `updatedAt`, or the last
   *  frame of a live WebSocket when that is later, because the device pushes every change. */
  confirmedAt: number;
  /** Epoch milliseconds of the push or poll that brought `info`. Write responses carry no
   *  info, and info fields such as `uptime` change without a push. */
  infoUpdatedAt?: number;
  source: ObservationSource;
}

/** Reads `/json/si` (`{state, info}`) through the device's request lane. */
export type StateAndInfoReader = (
  signal: AbortSignal,
) => Promise<{ state: WledState; info?: WledInfo }>;

/** Hooks through which the feed reports the WebSocket's health to the device's client. */
export interface ChannelHealthHooks {
  /** The WebSocket delivered a state document, which shows that the device is reachable. The
   *  document also goes through the client's identity check (MAC, firmware version, reboot). */
  reachable(document: { state: WledState; info?: WledInfo }): void;
  /** No connection could be opened (`unreachable`), or the device closed the socket for lack
   *  of memory (`overloaded`). */
  failed(error: WledError): void;
}

export interface LiveOptions {
  /** Name of the device in logs, events and errors. */
  name: string;
  /** Origin of the device, `http://host:port` or `https://host:port`, no trailing slash. */
  baseUrl: string;
  /** Sent with the WebSocket upgrade request, for devices behind a proxy that requires it. */
  username?: string;
  password?: string;
  readStateAndInfo: StateAndInfoReader;
  logger: Logger;
  health?: ChannelHealthHooks;
  /** Whether to try the WebSocket at all; false polls only (default true). */
  useWebSocket?: boolean;
  /** Gap between `/json/si` polls while the WebSocket is down, in ms (default 15000). */
  pollIntervalMs?: number;
  /** Gap between heartbeat pings, in ms; a socket that leaves two pings in a row unanswered
   *  is closed (default 20000). */
  heartbeatMs?: number;
  /** Limit for the WebSocket upgrade, in ms (default 3000). */
  connectTimeoutMs?: number;
  /** First reconnect delay, in ms; it doubles after each failure (default: the client's
   *  `backoffBaseMs`, 500). */
  reconnectBaseMs?: number;
  /** Largest reconnect delay, in ms (default: the client's `backoffMaxMs`, 30000). */
  reconnectMaxMs?: number;
  /** After the device's WebSocket client limit was reached, the longest wait before the
   *  WebSocket is tried again when no poll shows a free slot, in ms (default 600000). */
  clientLimitRetryMs?: number;
  /** How long a WebSocket must stay up before the reconnect delay starts again from the
   *  first step, in ms (default 30000). */
  stableAfterMs?: number;
  /** How long after a write of this client a change of the written fields still counts as
   *  its own, in ms (default 2500: the firmware's 1000 ms broadcast cooldown plus margin). */
  ownWriteWindowMs?: number;
  random?: () => number;
}
