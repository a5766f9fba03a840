/**
 * One WebSocket connection to a device's `/ws`, from the upgrade to the close. WLED sends
 * `{"state":…,"info":…}` when a client connects and after every state change (at most one
 * broadcast per 1000 ms cooldown, 2000 ms on 0.13). The channel checks the socket with
 * protocol pings, which the firmware's web server library replies to on every WebSocket-capable
 * release, and treats any frame (message or pong) as a sign of life.
 */

import WebSocket, { type RawData } from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';

import type { Logger, WledInfo, WledState } from '../client/types';
import { WledError, type ErrorClass } from '../errors';

/** WebSocket close code that WLED sends when it is out of memory ("try again later"). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Error codes of a TCP connection that could not be opened. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ECONNRESET',
]);

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
  private lastFrameAt = 0;
  private delivered = false;
  private ended = false;
  /** The error that ends the channel, recorded before the socket closes. */
  private failure: WledError | undefined;

  constructor(
    private readonly options: ChannelOptions,
    private readonly handlers: ChannelHandlers,
  ) {
    this.wsPath = new URL(options.url).pathname;
    this.socket = new WebSocket(options.url, {
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
      auth: options.auth,
      followRedirects: false,
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

  private onOpen(): void {
    this.openedAt = Date.now();
    this.lastFrameAt = this.openedAt;
    this.options.logger.debug(`${this.options.device}: WebSocket ${this.options.url} opened`);

    this.heartbeat = setInterval(() => this.checkHeartbeat(), this.options.heartbeatMs);
  }

  /**
   * Pings once per gap and gives up when two pings in a row went unanswered. By then the
   * socket has been silent for more than 2.5 gaps, which leaves room for timer jitter.
   */
  private checkHeartbeat(): void {
    const silentMs = Date.now() - this.lastFrameAt;
    if (silentMs > 2.5 * this.options.heartbeatMs) {
      this.fail(
        'timeout',
        `the WebSocket sent nothing for ${silentMs} ms, not even a pong to the pings sent every ${this.options.heartbeatMs} ms`,
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
    this.lastFrameAt = Date.now();
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
    this.fail(
      'http',
      `the WebSocket upgrade at ${this.wsPath} got HTTP ${status}, so the firmware has no WebSocket or a proxy blocks it`,
      { status },
    );
    response.resume();
    request.destroy();
    this.socket.terminate();
  }

  private onError(error: Error): void {
    if (this.failure !== undefined) {
      return;
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_CODES.has(code) && this.openedAt === undefined) {
      this.fail('unreachable', `the WebSocket connection to ${this.wsPath} failed (${code})`, {
        code,
        cause: error,
      });
    } else if (error.message.includes('handshake has timed out')) {
      this.fail(
        'timeout',
        `the WebSocket upgrade timed out after ${this.options.connectTimeoutMs} ms`,
        { cause: error },
      );
    } else {
      this.fail('dropped', `the WebSocket failed: ${error.message}`, {
        code: typeof code === 'string' ? code : undefined,
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
    if (this.failure === undefined) {
      const errorClass: ErrorClass = code === CLOSE_TRY_AGAIN_LATER ? 'overloaded' : 'dropped';
      const why =
        code === CLOSE_TRY_AGAIN_LATER
          ? 'the device closed the WebSocket with 1013 (out of memory, try again later)'
          : `the WebSocket closed with code ${code}`;
      this.fail(errorClass, why);
    }

    this.handlers.end({
      opened,
      delivered: this.delivered,
      openMs: opened ? Date.now() - (this.openedAt as number) : 0,
      code: opened ? code : undefined,
      error: this.failure,
    });
  }

  private fail(
    errorClass: ErrorClass,
    what: string,
    details: { status?: number; code?: string; cause?: unknown } = {},
  ): void {
    this.failure ??= new WledError(errorClass, `${this.options.device}: ${what}`, {
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
