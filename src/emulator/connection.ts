import type { Socket } from 'node:net';
import type { JsonBufferLock } from './buffer-lock';
import { CONNECTION_FAULTS, DEFAULT_DELAY_MS, RESPONSE_FAULTS, type FaultBook } from './faults';
import {
  MAX_BODY_BYTES,
  QUEUE_FULL_REPLY,
  RequestReader,
  encodeChunks,
  formatHead,
  type HeadSpec,
  type ParsedRequest,
} from './framing';
import type { StatsCounter } from './stats';
import type { DeviceModel, FaultSpec, ModelResponse } from './types';
import type { WebSocketHub } from './websocket';

/** Requests 16.x keeps active or queued at once (WebSockets excluded). */
export const QUEUE_LIMIT_16 = 6;

/** Wait between the last write and a reset, in ms (see `resetSoon`). */
const RESET_DELAY_MS = 10;

/** State shared by every connection of one emulator. */
export interface ConnectionContext {
  readonly device: DeviceModel;
  readonly lock: JsonBufferLock;
  readonly faults: FaultBook;
  readonly stats: StatsCounter;
  readonly webSocketHub: WebSocketHub;
  /** Requests counted against the 16.x queue limit right now. */
  queuedRequests: number;
  receiveTimeoutMs: number;
  idleCloseMs: number;
  /** How long a request waits for a busy JSON buffer; Infinity on 16.x, which queues it. */
  lockWaitMs: number;
  /** Returns the latency to add before the next response, in ms. */
  nextLatencyMs(): number;
}

/** A response the server builds itself, with how the library frames it. */
interface WireResponse extends ModelResponse {
  /** A "basic" response: `Connection: close` precedes the handler headers. */
  basic?: boolean;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const EMPTY_400: WireResponse = { status: 400, body: '', basic: true };
const EMPTY_413: WireResponse = { status: 413, body: '', basic: true };

const PREFLIGHT: WireResponse = {
  status: 200,
  body: '',
  basic: true,
  headers: [['Access-Control-Max-Age', '7200']],
};

// NOTE: the firmware serves its 404 page gzip-encoded; this one is plain HTML.
const NOT_FOUND: WireResponse = {
  status: 404,
  contentType: 'text/html',
  body: '<!DOCTYPE html><html><head><title>Not found</title></head><body><h2>404 Not found</h2></body></html>',
};

const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1>' +
  '<p>The device or a proxy in front of it sent this page instead of JSON.</p></body></html>';

/**
 * One accepted TCP connection speaking WLED's HTTP: one request per connection (later bytes
 * are ignored), the receive-inactivity timeout, the JSON buffer and the injected faults.
 */
export class HttpConnection {
  private reader = new RequestReader();
  private phase: 'reading' | 'handling' | 'done' | 'websocket' = 'reading';
  private bytesOfRequest = 0;
  private receiveTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private clientEnded = false;
  /** False once the request will get no reply (never-answer, a silent busy reply). */
  private responseExpected = true;
  private requestOpen = false;
  private queued = false;
  private holdsLock = false;
  /** Connection handling after a response: `close` as on the firmware, or a proxy fault's mode. */
  private connectionMode: 'close' | 'keep-alive' | 'silent-close' = 'close';
  /** Set by the `keep-alive-idle` fault: the connection then serves request after request. */
  private keepAliveIdleMs: number | undefined;

  constructor(
    private readonly context: ConnectionContext,
    private readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', () => {
      // Resets by the client are normal here; 'close' does the bookkeeping.
    });
    socket.on('close', this.onClose);
    this.startReceiveTimer();
  }

  /** True once the socket closed or this side ended it, so nothing more may be written. */
  private get gone(): boolean {
    return this.closed || this.socket.writableEnded || this.socket.destroyed;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase !== 'reading') {
      // The firmware's parser stays "done" after one request: no keep-alive, no pipelining.
      return;
    }

    this.clearIdleTimer();
    if (this.keepAliveIdleMs === undefined) {
      this.startReceiveTimer();
    }

    if (this.bytesOfRequest === 0 && !this.admitToQueue()) {
      return;
    }
    this.bytesOfRequest += chunk.length;

    const result = this.reader.push(chunk);
    switch (result.kind) {
      case 'incomplete':
        return;
      case 'head':
        if (result.request.headers['expect']?.toLowerCase() === '100-continue') {
          this.socket.write(`HTTP/1.${result.request.httpMinor} 100 Continue\r\n\r\n`);
        }
        return;
      case 'invalid':
        // NOTE: what the firmware sends for an unparsable head is not verified; it closes here.
        this.phase = 'done';
        this.socket.end();
        return;
      case 'complete':
        this.phase = 'handling';
        this.dispatch(result.request, result.rest).catch(() => this.socket.destroy());
        return;
    }
  };

  private readonly onEnd = (): void => {
    this.clientEnded = true;

    // A client that closes its side has given up on the request, so it no longer counts as
    // in progress. A response still being prepared is written to the half-open socket.
    if (this.requestOpen) {
      this.requestOpen = false;
      this.context.stats.requestFinished();
    }
    if (this.phase !== 'handling' || !this.responseExpected) {
      this.socket.end();
    }
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.abort.abort();
    this.clearReceiveTimer();
    this.clearIdleTimer();
    this.finishRequest();
  };

  /**
   * Counts the request against the 16.x queue, or writes the queue-full reply and resets the
   * connection when 6 requests are already active or queued. Returns whether to go on.
   */
  private admitToQueue(): boolean {
    if (this.context.device.profile.line !== '16') {
      return true;
    }
    if (this.context.queuedRequests >= QUEUE_LIMIT_16) {
      this.context.stats.busyReply();
      this.sendQueueFullReply();
      return false;
    }
    this.context.queuedRequests += 1;
    this.queued = true;
    return true;
  }

  private sendQueueFullReply(): void {
    this.phase = 'done';
    this.clearReceiveTimer();
    this.socket.write(QUEUE_FULL_REPLY, () => this.resetSoon());
  }

  private async dispatch(request: ParsedRequest, rest: Buffer): Promise<void> {
    if (isWebSocketUpgrade(request) && !this.context.faults.isActive('ws-refuse')) {
      this.handOverToWebSocket(request, rest);
      return;
    }

    this.context.stats.requestStarted(request.method, request.path);
    this.requestOpen = true;

    const fault = this.context.faults.take(RESPONSE_FAULTS, request.path);
    if (this.keepAliveIdleMs === undefined) {
      const connectionFault = this.context.faults.take(CONNECTION_FAULTS, request.path);
      this.applyConnectionFault(connectionFault);
    }

    if (fault?.kind === 'reset-before-response') {
      this.reset();
      return;
    }
    if (fault?.kind === 'never-answer') {
      // A hung device: nothing is sent and only the safety timer ends the connection.
      this.responseExpected = false;
      this.clearReceiveTimer();
      this.startIdleTimer(this.context.idleCloseMs);
      return;
    }

    if (request.method === 'OPTIONS') {
      await this.respondAfterLatency(request, PREFLIGHT, fault);
    } else if (
      isJsonPath(request.path) &&
      (request.method === 'GET' || BODY_METHODS.has(request.method))
    ) {
      await this.handleJson(request, fault);
    } else if (request.method === 'GET') {
      await this.respondAfterLatency(request, this.getOtherPath(request), fault);
    } else {
      await this.respondAfterLatency(request, NOT_FOUND, fault);
    }
  }

  private applyConnectionFault(fault: FaultSpec | undefined): void {
    if (fault?.kind === 'keep-alive-idle') {
      this.connectionMode = 'keep-alive';
      this.keepAliveIdleMs = fault.delayMs ?? (DEFAULT_DELAY_MS['keep-alive-idle'] as number);
    } else if (fault?.kind === 'silent-close') {
      this.connectionMode = 'silent-close';
    } else {
      this.connectionMode = 'close';
    }
  }

  private async handleJson(request: ParsedRequest, fault: FaultSpec | undefined): Promise<void> {
    const bodyProblem = BODY_METHODS.has(request.method) ? checkBody(request) : undefined;
    if (bodyProblem !== undefined) {
      await this.respondAfterLatency(request, bodyProblem, fault);
      return;
    }

    if (fault?.kind === 'busy') {
      await this.replyBusy(request, true);
      return;
    }

    const acquired = await this.context.lock.acquire(this.context.lockWaitMs, this.abort.signal);
    if (this.gone) {
      if (acquired) {
        this.context.lock.release();
      }
      return;
    }
    if (!acquired) {
      await this.replyBusy(request, false);
      return;
    }

    // The buffer stays held through the latency and until the last byte is written.
    this.holdsLock = true;
    this.clearReceiveTimer();
    await this.sleep(this.context.nextLatencyMs());
    if (this.gone) {
      return;
    }

    // NOTE: `{"rb":true}` reboots the model, but the device stays reachable; a real device is
    // off the network for several seconds (use the `reboot` fault for that).
    const response =
      request.method === 'GET'
        ? this.context.device.handleGet(request.path, request.query)
        : this.context.device.handlePost(request.path, request.body.toString('utf8'));
    await this.respond(request, response, fault);
  }

  /** Sends the firmware line's reply to a request that found the JSON buffer busy. */
  private async replyBusy(request: ParsedRequest, forced: boolean): Promise<void> {
    this.context.stats.busyReply();
    const behaviour = this.context.device.profile.busyBehaviour;

    if (behaviour === 'reply-503') {
      await this.respondAfterLatency(request, {
        status: 503,
        body: '{"error":3}',
        headers: [['Retry-After', '1']],
      });
    } else if (behaviour === 'get-503-post-silent' && request.method === 'GET') {
      await this.respondAfterLatency(request, { status: 503, body: '{"error":3}', basic: true });
    } else if (behaviour === 'queue' && forced) {
      this.sendQueueFullReply();
    } else {
      this.responseExpected = false;
    }
    // Otherwise no reply: the receive timer closes the connection, as on the device.
  }

  private getOtherPath(request: ParsedRequest): WireResponse {
    let response: ModelResponse;
    try {
      response = this.context.device.handleGet(request.path, request.query);
    } catch {
      return NOT_FOUND;
    }
    return response.status === 404 && response.body === '' ? NOT_FOUND : response;
  }

  private async respondAfterLatency(
    request: ParsedRequest,
    response: WireResponse,
    fault?: FaultSpec,
  ): Promise<void> {
    this.clearReceiveTimer();
    await this.sleep(this.context.nextLatencyMs());
    if (this.gone) {
      return;
    }
    await this.respond(request, response, fault);
  }

  /** Writes `response`, shaped by the request's fault, then settles the connection. */
  private async respond(
    request: ParsedRequest,
    original: WireResponse,
    fault: FaultSpec | undefined,
  ): Promise<void> {
    const response = fault?.kind === 'html-error' ? htmlErrorResponse(fault) : original;
    let body = Buffer.from(response.body, 'utf8');
    if (fault?.kind === 'cut-json') {
      body = body.subarray(0, Math.floor(body.length / 2));
    }

    const chunkStyle =
      fault?.kind === 'padded-chunks'
        ? 'space-padded'
        : response.chunked
          ? 'zero-padded'
          : undefined;
    const head = formatHead(this.headSpec(request, response, body, chunkStyle !== undefined));

    if (fault?.kind === 'delay-headers') {
      await this.sleep(fault.delayMs ?? (DEFAULT_DELAY_MS['delay-headers'] as number));
      if (this.gone) {
        return;
      }
    }

    switch (fault?.kind) {
      case 'reset-after-headers':
        this.socket.write(head, () => this.resetSoon());
        return;
      case 'short-body-fin':
        this.socket.end(Buffer.concat([head, body.subarray(0, Math.floor(body.length / 2))]));
        return;
      case 'short-body-rst':
        this.socket.write(
          Buffer.concat([head, body.subarray(0, Math.floor(body.length / 2))]),
          () => this.resetSoon(),
        );
        return;
      case 'trickle-body':
        await this.trickle(
          head,
          body,
          fault.delayMs ?? (DEFAULT_DELAY_MS['trickle-body'] as number),
        );
        return;
    }

    if (chunkStyle !== undefined) {
      const pieces = [head, ...encodeChunks(body, chunkStyle)];
      await this.writeAll(pieces);
    } else {
      await this.writeAll([Buffer.concat([head, body])]);
    }
    this.responseFinished();
  }

  private headSpec(
    request: ParsedRequest,
    response: WireResponse,
    body: Buffer,
    chunked: boolean,
  ): HeadSpec {
    const connection =
      this.connectionMode === 'keep-alive'
        ? 'keep-alive'
        : this.connectionMode === 'silent-close'
          ? 'none'
          : 'close';

    return {
      httpMinor: request.httpMinor,
      status: response.status,
      contentLength: chunked ? undefined : body.length,
      // The library leaves Content-Type out of responses without a body.
      contentType:
        body.length > 0 || chunked ? (response.contentType ?? 'application/json') : undefined,
      handlerHeaders: response.headers,
      connection,
      connectionBeforeHandlerHeaders: response.basic,
      chunked,
    };
  }

  /** Sends the head, then the body in ten pieces `intervalMs` apart. */
  private async trickle(head: Buffer, body: Buffer, intervalMs: number): Promise<void> {
    await this.writeAll([head]);
    const pieceBytes = Math.max(1, Math.ceil(body.length / 10));

    for (let offset = 0; offset < body.length; offset += pieceBytes) {
      await this.sleep(intervalMs);
      if (this.gone) {
        return;
      }
      await this.writeAll([body.subarray(offset, offset + pieceBytes)]);
    }
    this.responseFinished();
  }

  private writeAll(pieces: Buffer[]): Promise<void> {
    return new Promise((resolve) => {
      if (this.gone || pieces.length === 0) {
        resolve();
        return;
      }
      for (const piece of pieces.slice(0, -1)) {
        this.socket.write(piece);
      }
      this.socket.write(pieces[pieces.length - 1], () => resolve());
    });
  }

  /** Ends the request once its last byte is written: frees the buffer and the queue slot. */
  private responseFinished(): void {
    this.finishRequest();
    if (this.closed) {
      return;
    }

    if (this.connectionMode === 'silent-close') {
      this.phase = 'done';
      this.socket.end();
      return;
    }

    if (this.keepAliveIdleMs !== undefined) {
      // Like a reverse proxy: wait for the next request, close quietly when idle.
      this.phase = 'reading';
      this.reader = new RequestReader();
      this.bytesOfRequest = 0;
      this.startIdleTimer(this.keepAliveIdleMs, 'end');
      return;
    }

    this.phase = 'done';
    if (this.clientEnded) {
      this.socket.end();
      return;
    }
    // The firmware waits for the client to close; the safety timer only prevents leaks.
    this.startIdleTimer(this.context.idleCloseMs);
  }

  private finishRequest(): void {
    if (this.holdsLock) {
      this.holdsLock = false;
      this.context.lock.release();
    }
    if (this.requestOpen) {
      this.requestOpen = false;
      this.context.stats.requestFinished();
    }
    if (this.queued) {
      this.queued = false;
      this.context.queuedRequests -= 1;
    }
  }

  private handOverToWebSocket(request: ParsedRequest, rest: Buffer): void {
    this.phase = 'websocket';
    this.clearReceiveTimer();
    this.clearIdleTimer();
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onEnd);

    // WebSocket clients do not count against the 16.x request queue.
    if (this.queued) {
      this.queued = false;
      this.context.queuedRequests -= 1;
    }
    this.context.webSocketHub.accept(this.socket, request, rest);
  }

  private startReceiveTimer(): void {
    this.clearReceiveTimer();
    this.receiveTimer = setTimeout(() => {
      // Graceful close, as the TCP layer's receive-inactivity timer does.
      this.receiveTimer = undefined;
      this.abort.abort();
      this.socket.end();
      this.startIdleTimer(this.context.idleCloseMs);
    }, this.context.receiveTimeoutMs);
  }

  private clearReceiveTimer(): void {
    if (this.receiveTimer !== undefined) {
      clearTimeout(this.receiveTimer);
      this.receiveTimer = undefined;
    }
  }

  private startIdleTimer(ms: number, how: 'end' | 'destroy' = 'destroy'): void {
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (how === 'end') {
        this.socket.end();
        this.startIdleTimer(this.context.idleCloseMs);
      } else {
        this.socket.destroy();
      }
    }, ms);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  /**
   * Resets shortly after a write. A reset in the same turn as the write's callback reached a
   * Node client on Linux loopback as a clean end, so the reset waits a few ms.
   */
  private resetSoon(): void {
    setTimeout(() => this.reset(), RESET_DELAY_MS);
  }

  private reset(): void {
    if (!this.socket.destroyed) {
      this.socket.resetAndDestroy();
    }
  }

  /** Waits `ms`, or less when the connection closes meanwhile. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function isJsonPath(path: string): boolean {
  return path === '/json' || path.startsWith('/json/');
}

function isWebSocketUpgrade(request: ParsedRequest): boolean {
  return (
    request.method === 'GET' &&
    request.path === '/ws' &&
    request.headers['upgrade']?.toLowerCase() === 'websocket'
  );
}

/** Returns the empty 400/413 the JSON body handler sends, or undefined for a usable body. */
function checkBody(request: ParsedRequest): WireResponse | undefined {
  if (request.contentLength > MAX_BODY_BYTES) {
    return EMPTY_413;
  }
  if (request.contentLength === MAX_BODY_BYTES || request.contentLength === 0 || request.chunked) {
    return EMPTY_400;
  }

  // The library turns form-encoded bodies into parameters, so the JSON handler sees none.
  const contentType = (request.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return EMPTY_400;
  }
  return undefined;
}

function htmlErrorResponse(fault: FaultSpec): WireResponse {
  return { status: fault.status ?? 200, contentType: 'text/html', body: HTML_ERROR_PAGE };
}
