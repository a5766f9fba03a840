/**
 * Public surface of the per-device client. The device config node creates one
 * `DeviceClient` and every flow node sends its requests through it; nothing here imports
 * Node-RED, so the client runs and is tested on its own.
 */

import type { ConnectionState, StateChange } from '../connection-state';
import type { ErrorClass } from '../errors';
import type { ResourceName } from '../wled/resources';
import type { RecoveryOptions } from './lifecycle';

/** The subset of a Node-RED node's logger the client writes to. */
export interface Logger {
  debug(message: string): void;
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface DeviceTimeouts {
  /** TCP connect limit in milliseconds. */
  connectMs: number;
  /** Longest silence while waiting for response bytes, in milliseconds. */
  responseMs: number;
  /** Deadline for one call including its retries, in milliseconds. */
  totalMs: number;
}

export const DEFAULT_TIMEOUTS: DeviceTimeouts = {
  connectMs: 3000,
  responseMs: 5000,
  totalMs: 8000,
};

export interface DeviceClientOptions {
  /** Name used in logs and diagnostics. */
  name: string;
  /** Origin of the device, `http://host:port` or `https://host:port`, no trailing slash. */
  baseUrl: string;
  username?: string;
  password?: string;
  timeouts?: Partial<DeviceTimeouts>;
  /** Requests on the wire at once: 1 (default) or 2. */
  maxInFlight?: 1 | 2;
  /** Requests waiting behind the one in flight before new ones are rejected as overloaded. */
  queueLimit?: number;
  /** Smallest gap between the starts of two writes, in milliseconds (0 = none). */
  minWriteSpacingMs?: number;
  /**
   * Parses responses with Node's lenient HTTP parser (`insecureHTTPParser`). Firmware up to
   * 0.15.1, and ESP8266 builds on the same web server library, pad chunk-size lines with
   * spaces, which the strict parser rejects as HPE_INVALID_CHUNK_SIZE. Off by default.
   */
  lenientParser?: boolean;
  /**
   * Accepts any certificate at an https address, such as a reverse proxy's self-signed one.
   * The connection is then encrypted but not authenticated. Off by default.
   */
  acceptAnyCertificate?: boolean;
  /** How long `close()` lets the request on the wire finish before aborting it, in
   *  milliseconds (default 1000). */
  closeGraceMs?: number;
  /** Thresholds and backoff of the connection states (defaults: unreachable after 3 failures,
   *  connected after 3 clean responses, 500 ms to 30 s backoff, slow above 2000 ms). */
  recovery?: Partial<RecoveryOptions>;
  /**
   * Called when a state write is accepted into the lane. The returned function receives the
   * device's response (its new state), or nothing when the write failed. The live state feed
   * uses it to mark the changes made by this client's own writes.
   */
  onWrite?: (patch: WledState) => (response?: WledState) => void;
  logger: Logger;
}

export interface RequestOptions {
  /** Aborts the call while it waits in the queue or is on the wire. */
  signal?: AbortSignal;
  /** For reads: never share a request that is already on the wire, because its response may
   *  predate something the caller has just done (set-state's read after a preset). */
  fresh?: boolean;
}

/** Timings and lane figures for one call, as output 2 and the counters report them. */
export interface RequestDiagnostics {
  method: 'GET' | 'POST';
  path: string;
  /** Requests sent for this call, retries included (0 when it never left the queue). */
  attempts: number;
  /** Whether the last attempt ran on a socket that had served an earlier request. */
  reusedSocket: boolean;
  /** Milliseconds from sending the last attempt to its first response byte. */
  ttfbMs?: number;
  /** Milliseconds from the call to its outcome, queue wait included. */
  totalMs: number;
  /** Calls waiting in the device's lane when this one was queued. */
  queueDepth: number;
  /** Writes folded into the request that carried this one (1 when it went alone). */
  mergedWrites: number;
  /** HTTP status of the last attempt, when one arrived. */
  status?: number;
  errorClass?: ErrorClass;
}

export interface RequestResult<T> {
  data: T;
  diagnostics: RequestDiagnostics;
}

export interface EffectLists {
  effects: string[];
  palettes: string[];
  /** `/json/fxdata` entries (WLED 0.14 and later), index = effect id; absent on 0.13. */
  fxdata?: string[];
}

export interface DeviceClientStats {
  state: ConnectionState;
  /** Epoch milliseconds since the device has been in `state`. */
  since: number;
  requests: number;
  successes: number;
  failuresByClass: Partial<Record<ErrorClass, number>>;
  retries: number;
  mergedWrites: number;
  queueDepth: number;
  inFlight: number;
  lastError?: { errorClass: ErrorClass; message: string; at: number };
  /** Exponentially weighted round-trip time of successful requests, in milliseconds. */
  latencyMs?: number;
  /** `info.mac` recorded on first contact. */
  mac?: string;
  /** `info.ver` recorded on the last `/json/info` or `/json` read. */
  version?: string;
}

/** What `DeviceClient` emits, for the config node to fan out to its flow nodes. */
export interface DeviceClientEvents {
  state: (change: StateChange) => void;
  /** The device rebooted (its uptime went backwards); cached lists were dropped. */
  reboot: (info: { uptime: number; previousUptime: number }) => void;
}

export type WledState = Record<string, unknown>;
export type WledInfo = Record<string, unknown>;

/** Contract of the client the nodes use. */
export interface DeviceClientApi {
  readonly name: string;
  readonly state: ConnectionState;
  /** Reads a resource. Concurrent reads of the same resource share one request. */
  read(resource: ResourceName, options?: RequestOptions): Promise<RequestResult<unknown>>;
  /**
   * Applies a state patch with `"v": true` and resolves with the device's new state.
   * Absolute patches waiting in the lane are merged (latest wins); patches that are not safe
   * to repeat (toggles, relative values, random, preset cycling) are never merged.
   */
  setState(patch: WledState, options?: RequestOptions): Promise<RequestResult<WledState>>;
  /** Effect and palette names (and fxdata), cached until the device reboots or changes version. */
  effectLists(options?: RequestOptions): Promise<EffectLists>;
  stats(): DeviceClientStats;
  on<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): this;
  off<E extends keyof DeviceClientEvents>(event: E, listener: DeviceClientEvents[E]): this;
  /** Ordered shutdown: reject new calls, cancel queued ones, stop timers, abort the call in
   *  flight after a short grace, destroy the agent. Resolves when nothing is left running. */
  close(): Promise<void>;
}
