/**
 * One WebSocket connection to a device's `/ws`, from the upgrade to the close. WLED sends
 * `{"state":…,"info":…}` when a client connects and after every state change (at most one
 * broadcast per 1000 ms cooldown, 2000 ms on 0.13). The channel checks the socket with
 * protocol pings, which the firmware's web server library replies to on every WebSocket-capable
 * release, and treats any frame (message or pong) as a sign of life.
 */

import WebSocket, { type RawData } from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

import { isConnectFailure } from '../client/classify';
import type { Logger, WledInfo, WledState } from '../client/types';
import { WledError, type ErrorClass } from '../errors';
import { messageText, type MessageText } from '../messages';

/** WebSocket close code that WLED sends when it is out of memory ("try again later"). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Close code that `ws` reports for a close frame without a status code, which WLED sends
 *  when it closes a client itself. */
export const CLOSE_NO_STATUS = 1005;

/** Close code that `ws` reports when the connection ended without a close frame. */
const CLOSE_ABNORMAL = 1006;

export interface ChannelOptions {
  /** Name of the device in logs and errors. */
  device: string;
  /** `ws://host:port/ws` or `wss://host:port/ws`. */
  url: string;
  /** `user:password` for the upgrade request's Basic authentication. */
  auth?: string;
  connectTimeoutMs: number;
  heartbeatMs: number;
  logger: Logger;
}

/** The end of a channel, reported once per channel. */
export interface ChannelEnd {
  /** Whether the upgrade succeeded. */
  opened: boolean;
  /** Whether at least one state document arrived. */
  delivered: boolean;
  /** Milliseconds between the upgrade and the end; 0 when it never opened. */
  openMs: number;
  /** WebSocket close code, when the socket was open and a close code is known. */
  code?: number;
  /** Whether the device ended an open socket with a close frame, on its own accord. */
  closedByDevice: boolean;
  /** The failure that ended the channel; absent when `close()` ended it. */
  error?: WledError;
}

export interface ChannelHandlers {
  /** A state document arrived; `first` is true for the one the device sends on connect. */
  document(document: { state: WledState; info?: WledInfo }, first: boolean): void;
  /** The channel ended; called once, and not after `close()`. */
  end(end: ChannelEnd): void;
}

export class WebSocketChannel {
  private readonly socket: WebSocket;
  private readonly wsPath: string;
  private heartbeat: NodeJS.Timeout | undefined;
  private openedAt: number | undefined;
  private lastFrame = 0;
  /** Whether the TCP connection under the upgrade was established. */
  private tcpConnected = false;
  private delivered = false;
  private ended = false;
  /** The error that ends the channel, recorded before the socket closes. */
  private failure: WledError | undefined;

  constructor(
    private readonly options: ChannelOptions,
    private readonly handlers: ChannelHandlers,
  ) {
    const url = new URL(options.url);
    this.wsPath = url.pathname;
    this.socket = new WebSocket(options.url, {
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
      auth: options.auth,
      followRedirects: false,
      createConnection: ((connectOptions: tls.ConnectionOptions) =>
        this.connect(url.protocol === 'wss:', connectOptions)) as typeof net.createConnection,
    });

    this.socket.on('open', () => this.onOpen());
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('pong', () => this.onFrame());
    this.socket.on('unexpected-response', (request, response) =>
      this.onUnexpectedResponse(request, response),
    );
    this.socket.on('error', (error) => this.onError(error));
    this.socket.on('close', (code) => this.onClose(code));
  }

  /** Epoch milliseconds of the last frame received (a message or a pong); 0 before the upgrade. */
  get lastFrameAt(): number {
    return this.lastFrame;
  }

  /**
   * Closes the socket with 1000 (normal closure) and stops the heartbeat; no `end` follows.
   * Resolves when the socket is closed, after the closing handshake or after
   * `connectTimeoutMs` when the device does not complete it.
   */
  close(): Promise<void> {
    this.ended = true;
    this.stopHeartbeat();
    this.socket.removeAllListeners('message');
    this.socket.removeAllListeners('pong');
    // Keep an error listener: `ws` emits one for a handshake it aborts on terminate().
    this.socket.removeAllListeners('error');
    this.socket.on('error', () => undefined);

    if (this.socket.readyState === WebSocket.CLOSED) {
      return Promise.resolve();
    }
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));

    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(1000);
      const timer = setTimeout(() => this.socket.terminate(), this.options.connectTimeoutMs);
      void closed.then(() => clearTimeout(timer));
    } else {
      this.socket.terminate();
    }
    return closed;
  }

  /**
   * Opens the TCP (or TLS) connection for the upgrade, as `ws` does by default, and records
   * when it is established, so that a timed-out upgrade can tell a device that never accepted
   * the connection from one that accepted it and did not answer.
   */
  private connect(secure: boolean, connectOptions: tls.ConnectionOptions): net.Socket {
    // `ws` passes the request options, whose `path` is the URL path, not a socket path.
    const socket = secure
      ? tls.connect({
          ...connectOptions,
          path: undefined,
          servername:
            connectOptions.servername ??
            (net.isIP(connectOptions.host ?? '') ? '' : connectOptions.host),
        })
      : net.connect({
          ...(connectOptions as net.NetConnectOpts),
          path: undefined,
        } as net.NetConnectOpts);
    socket.once('connect', () => {
      this.tcpConnected = true;
    });
    return socket;
  }

  private onOpen(): void {
    this.openedAt = Date.now();
    this.lastFrame = this.openedAt;
    this.options.logger.debug(`${this.options.device}: WebSocket ${this.options.url} opened`);

    this.heartbeat = setInterval(() => this.checkHeartbeat(), this.options.heartbeatMs);
  }

  /**
   * Pings once per gap and gives up when two pings in a row went unanswered. By then the
   * socket has been silent for more than 2.5 gaps, which leaves room for timer jitter.
   */
  private checkHeartbeat(): void {
    const silentMs = Date.now() - this.lastFrame;
    if (silentMs > 2.5 * this.options.heartbeatMs) {
      this.fail(
        'timeout',
        messageText('live.heartbeat-timeout', {
          silentMs,
          heartbeatMs: this.options.heartbeatMs,
        }),
      );
      this.socket.terminate();
      return;
    }
    this.socket.ping();

    // The device sends its state on connect, but a push lost then (a silent spell, a full
    // client queue) would keep the channel waiting for the next change. `{"v":true}` requests
    // for the state again; it changes nothing on the device.
    if (!this.delivered) {
      this.socket.send('{"v":true}');
    }
  }

  private onFrame(): void {
    this.lastFrame = Date.now();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.onFrame();
    if (this.ended || isBinary) {
      // Binary frames are the live LED stream (`{"lv":true}`), which this client never requests.
      return;
    }

    const text = rawDataToString(data);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // `pong` is the reply to a text ping; anything else that is not JSON is unexpected but harmless.
      if (text !== 'pong') {
        this.options.logger.debug(
          `${this.options.device}: ignored a WebSocket text that is not JSON (${text.length} bytes)`,
        );
      }
      return;
    }

    const document = stateDocument(parsed);
    if (document === undefined) {
      // `{"success":true}` and `{"error":N}` are replies to commands, which this client does not send.
      return;
    }

    const first = !this.delivered;
    this.delivered = true;
    this.handlers.document(document, first);
  }

  private onUnexpectedResponse(request: ClientRequest, response: IncomingMessage): void {
    const status = response.statusCode ?? 0;
    const key =
      status === 401 || status === 403
        ? 'live.upgrade-rejected-credentials'
        : 'live.upgrade-rejected';
    this.fail('http', messageText(key, { path: this.wsPath, status }), { status });
    response.resume();
    request.destroy();
    this.socket.terminate();
  }

  private onError(error: Error): void {
    if (this.failure !== undefined) {
      return;
    }
    const rawCode = (error as { code?: unknown }).code;
    const code = typeof rawCode === 'string' ? rawCode : undefined;
    const opened = this.openedAt !== undefined;

    // Only a connection that could not be opened is `unreachable`, as for HTTP requests. A
    // reset or a silent upgrade comes from a device that accepted the connection.
    if (!opened && isConnectFailure(code)) {
      this.fail(
        'unreachable',
        messageText('live.connect-failed', { path: this.wsPath, code: String(code) }),
        { code, cause: error },
      );
    } else if (error.message.includes('handshake has timed out') && !this.tcpConnected) {
      this.fail(
        'unreachable',
        messageText('live.connect-timeout', { ms: this.options.connectTimeoutMs }),
        { cause: error },
      );
    } else if (error.message.includes('handshake has timed out')) {
      this.fail(
        'timeout',
        messageText('live.upgrade-timeout', { ms: this.options.connectTimeoutMs }),
        { cause: error },
      );
    } else if (!opened) {
      this.fail('dropped', messageText('live.upgrade-failed', { error: error.message }), {
        code,
        cause: error,
      });
    } else {
      this.fail('dropped', messageText('live.socket-failed', { error: error.message }), {
        code,
        cause: error,
      });
    }
  }

  private onClose(code: number): void {
    this.stopHeartbeat();
    if (this.ended) {
      return;
    }
    this.ended = true;

    const opened = this.openedAt !== undefined;
    const closedByDevice = opened && this.failure === undefined && code !== CLOSE_ABNORMAL;
    if (this.failure === undefined) {
      const errorClass: ErrorClass = code === CLOSE_TRY_AGAIN_LATER ? 'overloaded' : 'dropped';
      let why = messageText('live.closed-without-frame', { code });
      if (code === CLOSE_TRY_AGAIN_LATER) {
        why = messageText('live.closed-try-later');
      } else if (closedByDevice) {
        why = messageText('live.closed-by-device', { code });
      }
      this.fail(errorClass, why);
    }

    this.handlers.end({
      opened,
      delivered: this.delivered,
      openMs: opened ? Date.now() - (this.openedAt as number) : 0,
      code: opened ? code : undefined,
      closedByDevice,
      error: this.failure,
    });
  }

  private fail(
    errorClass: ErrorClass,
    reason: MessageText,
    details: { status?: number; code?: string; cause?: unknown } = {},
  ): void {
    const what = messageText('live.failed', { device: this.options.device, reason });
    this.failure ??= new WledError(errorClass, what, {
      device: this.options.device,
      method: 'GET',
      path: this.wsPath,
      ...details,
    });
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

/** Returns `{state, info}` when the parsed message is a state document, undefined otherwise. */
function stateDocument(parsed: unknown): { state: WledState; info?: WledInfo } | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return undefined;
  }
  const { state, info } = parsed as { state?: unknown; info?: unknown };
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    return undefined;
  }
  const document: { state: WledState; info?: WledInfo } = { state: state as WledState };
  if (typeof info === 'object' && info !== null && !Array.isArray(info)) {
    document.info = info as WledInfo;
  }
  return document;
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) {
    return Buffer.concat(data).toString('utf8');
  }
  if (data instanceof ArrayBuffer) {
    return Buffer.from(data).toString('utf8');
  }
  return data.toString('utf8');
}

/** Builds the WebSocket address of a device from its HTTP origin. */
export function webSocketUrl(baseUrl: string): string {
  const url = new URL('/ws', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
