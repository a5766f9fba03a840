/**
 * Contracts of the WLED emulator. The device model computes what firmware computes (state
 * semantics, routing, response bodies) and knows nothing of sockets; the server reproduces
 * how the firmware's network stack behaves (Connection: close, the single JSON buffer, busy
 * replies, connection limits) and injects faults.
 */

export type FirmwareLine = '0.13' | '0.14' | '0.15' | '16';

/** What a device of a firmware line does with a request that finds the JSON buffer busy. */
export type BusyBehaviour =
  /** 0.15.x: 503 `{"error":3}` with `Retry-After: 1`, for GET and POST. */
  | 'reply-503'
  /** 0.14.x: 503 for GET; a POST gets no answer and the socket closes about 3 s later. */
  | 'get-503-post-silent'
  /** 0.13.x: no answer for either; the socket closes about 3 s later. */
  | 'silent'
  /** 16.x: waits in a queue of 6; the next one gets an unterminated 503 and a reset. */
  | 'queue';

export interface ProfileInfo {
  /** Folder name of the profile (`0.15.3-esp32`) or `builtin`. */
  name: string;
  line: FirmwareLine;
  arch: 'esp8266' | 'esp32';
  /** Bytes of the firmware's single JSON document (10240 on ESP8266). */
  jsonBufferSize: number;
  /** TCP connections the device accepts at once (5 on ESP8266, 16 on ESP32). */
  tcpConnectionLimit: number;
  /** WebSocket clients kept before the oldest is closed (3 on ESP8266, 8 on ESP32). */
  wsClientLimit: number;
  /** Palettes per `/json/palx` page (5 on ESP8266, 8 on ESP32). */
  palxPageSize: number;
  busyBehaviour: BusyBehaviour;
}

/** A response as the device model computes it, before the server frames it. */
export interface ModelResponse {
  status: number;
  /** Exact body bytes; raw PROGMEM lists keep their newlines. */
  body: string;
  /** Defaults to `application/json`. */
  contentType?: string;
  /** Headers a handler adds (`Retry-After`), in firmware order. */
  headers?: Array<[string, string]>;
  /** Sent with `Transfer-Encoding: chunked` (16.x `/json/fxdata`). */
  chunked?: boolean;
}

export interface DeviceSnapshot {
  state: Record<string, unknown>;
  info: Record<string, unknown>;
}

export interface DeviceModel {
  readonly profile: ProfileInfo;
  /** Answers `GET path` by WLED's substring router; `query` carries `page` for palx. */
  handleGet(path: string, query: URLSearchParams): ModelResponse;
  /** Applies a POST body (already size-checked) and answers as the firmware does. */
  handlePost(path: string, body: string): ModelResponse;
  /** The live `{state, info}` document, as `/json/si` and the WebSocket send it. */
  snapshot(): DeviceSnapshot;
  /** Calls `listener` after every state change (for WebSocket broadcasts). */
  onChange(listener: () => void): () => void;
  /** Back to the profile's default state with `uptime` starting again from 0. */
  reboot(): void;
  /** Replaces `info.mac` (the "different device at the same address" fault). */
  setMac(mac: string): void;
  /** Number of WebSocket clients reported in `info.ws`. */
  setWsClients(count: number): void;
}

export type FaultKind =
  | 'delay-headers'
  | 'never-answer'
  | 'trickle-body'
  | 'short-body-fin'
  | 'short-body-rst'
  | 'cut-json'
  | 'reset-before-response'
  | 'reset-after-headers'
  | 'padded-chunks'
  | 'html-error'
  | 'refuse-connections'
  | 'reboot'
  | 'keep-alive-idle'
  | 'silent-close'
  | 'other-device'
  | 'busy'
  /** WebSocket upgrades answered 404, as a build without WebSocket support does. */
  | 'ws-refuse'
  /** WebSocket clients stay connected but receive nothing: no pushes, no `pong` text, no
   *  protocol pongs. */
  | 'ws-silent';

export interface FaultSpec {
  kind: FaultKind;
  /** Applies to the next N requests (default 1 for per-request faults). */
  count?: number;
  /** Applies for this many milliseconds instead of a count. */
  forMs?: number;
  /** Fault-specific delay: headers delay, trickle interval, keep-alive idle timeout. */
  delayMs?: number;
  /** Only requests whose path starts with this are affected. */
  path?: string;
  /** HTTP status of the `html-error` page (default 200, as a captive portal sends it). */
  status?: number;
  /** `info.mac` reported by the `other-device` fault (default `0123456789ab`). */
  mac?: string;
}

export interface EmulatorStats {
  /** Requests fully received. */
  requests: number;
  /** Requests being handled right now (received, response not yet finished). */
  current: number;
  /** Highest `current` seen since the last reset. */
  maxConcurrent: number;
  /** TCP connections accepted (HTTP and WebSocket, including ones reset at accept). */
  connections: number;
  /** TCP connections open right now, WebSocket ones included. */
  openConnections: number;
  /** WebSocket clients connected right now. */
  wsClients: number;
  /** Requests that found the JSON buffer busy (503, no answer, or the 16.x queue reply). */
  busyReplies: number;
  postsByPath: Record<string, number>;
  getsByPath: Record<string, number>;
}

export interface EmulatorOptions {
  /** `builtin` (default), a folder name under `fixturesDir`, or a path to a capture folder. */
  profile?: string;
  fixturesDir?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Port of the fault-control endpoint; omitted = none. */
  controlPort?: number;
  leds?: number;
  /** Added before each response: a fixed number or an inclusive [min, max] range, in ms. */
  latencyMs?: number | [number, number];
  /** Minimum gap between WebSocket broadcasts in ms (firmware: 1000, 2000 on 0.13). */
  wsBroadcastCooldownMs?: number;
  /** Receive-inactivity timeout until a response starts, in ms (firmware: 3000). */
  receiveTimeoutMs?: number;
  /** How long a request waits for a busy JSON buffer before the busy reply, in ms
   *  (firmware: 1000 on 0.13 and 0.14, 250 on 0.15 ESP32, 0 on 0.15 ESP8266). */
  lockWaitMs?: number;
  /** Safety close of a socket that stays idle after its response, in ms (default 10000;
   *  real firmware never closes it). */
  idleCloseMs?: number;
}

export interface Emulator {
  readonly url: string;
  readonly port: number;
  readonly controlUrl?: string;
  readonly device: DeviceModel;
  stats(): EmulatorStats;
  resetStats(): void;
  inject(fault: FaultSpec): void;
  clearFaults(): void;
  setLatency(latencyMs: number | [number, number]): void;
  /** Goes down for `downMs`, then comes back rebooted. */
  reboot(downMs?: number): Promise<void>;
  close(): Promise<void>;
}
