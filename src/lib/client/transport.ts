/**
 * One HTTP exchange with a device: the axios instance on an agentkeepalive agent, the
 * socket observations the classifier needs (reuse count, first bytes, connect phase), and
 * the three limits of an attempt. An attempt resolves only after the whole body has been
 * received and parsed; every failure leaves here already classified.
 */

import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { HttpAgent, HttpsAgent } from 'agentkeepalive';
import { WledError } from '../errors';
import { classifyResponse, classifyTransportError } from './classify';
import type { DeviceTimeouts } from './types';
import type { Validator } from './validate';

/** Largest response body accepted, in bytes. `presets.json` on an ESP32 stays well below. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Bytes kept from the start of each response, enough for `HTTP/1.1 503`. */
const PEEK_BYTES = 16;

/**
 * Maximum time an idle socket stays in the pool, in milliseconds. WLED closes every
 * connection after one response, so the pool only matters for proxies in front of a device.
 * A `Keep-Alive: timeout=N` hint needs no handling here: Node 20's Agent does not pool a
 * socket when the hint leaves less than 1 s, and any longer hint leaves at least this much.
 */
const FREE_SOCKET_TIMEOUT_MS = 1000;

export interface AttemptRequest {
  method: 'GET' | 'POST';
  path: string;
  /** JSON text of a POST body. */
  body?: string;
  /** Aborts the attempt; its reason is an `AbortReason` naming the class to report. */
  signal: AbortSignal;
  /** Send on a new connection: pooled idle sockets are closed first. */
  freshConnection: boolean;
  /** Checks the parsed body; returns what is wrong with it, or undefined when it is usable. */
  validate?: Validator;
  /** Resolve with `data: undefined` on 404 and 501, for endpoints older firmware lacks. */
  optional?: boolean;
}

/** Observations of the socket during one attempt. */
export interface AttemptObservation {
  /** Whether the socket had served an earlier request (counted per socket, so it also
   *  covers queued requests that Node hands a freed socket without setting `reusedSocket`). */
  reusedSocket: boolean;
  connected: boolean;
  connectTimedOut: boolean;
  /** Whether complete response headers arrived. */
  responseStarted: boolean;
  bytesReceived: number;
  /** First bytes received on the socket for this request. */
  firstBytes: string;
  ttfbMs?: number;
  elapsedMs: number;
}

export interface AttemptSuccess {
  status: number;
  data: unknown;
  observation: AttemptObservation;
}

/** A failed attempt: the classified error plus what the retry rules need. */
export class AttemptFailure extends Error {
  constructor(
    readonly error: WledError,
    readonly observation: AttemptObservation,
    /** Delay the device asked for with `Retry-After`, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
    this.name = 'AttemptFailure';
  }
}

export interface TransportOptions {
  device: string;
  baseUrl: string;
  username?: string;
  password?: string;
  timeouts: DeviceTimeouts;
  maxSockets: number;
  /** Accepts HTTP framing that Node's strict parser rejects (see DeviceClientOptions). */
  lenientParser?: boolean;
  /** Skips the certificate check of an https address (see DeviceClientOptions). */
  acceptAnyCertificate?: boolean;
}

const socketUses = new WeakMap<Socket, number>();

export class Transport {
  readonly agent: HttpAgent | HttpsAgent;
  private readonly axios: AxiosInstance;
  private readonly secure: boolean;
  private readonly options: TransportOptions;

  constructor(options: TransportOptions) {
    this.options = options;
    this.secure = options.baseUrl.startsWith('https:');

    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: 1,
      freeSocketTimeout: FREE_SOCKET_TIMEOUT_MS,
      // Inactivity limit of an active socket, the same as the response limit.
      timeout: options.timeouts.responseMs,
      scheduling: 'lifo' as const,
    };
    this.agent = this.secure
      ? new HttpsAgent({
          ...agentOptions,
          rejectUnauthorized: options.acceptAnyCertificate !== true,
        })
      : new HttpAgent(agentOptions);

    const auth =
      options.username !== undefined && options.username !== ''
        ? { username: options.username, password: options.password ?? '' }
        : undefined;

    this.axios = axios.create({
      baseURL: options.baseUrl,
      httpAgent: this.secure ? undefined : this.agent,
      httpsAgent: this.secure ? this.agent : undefined,
      auth,
      // A non-zero timeout also keeps axios from calling setTimeout(0) on the socket, which
      // would switch off the agent's own inactivity timeout.
      timeout: options.timeouts.responseMs,
      maxRedirects: 0,
      proxy: false,
      responseType: 'arraybuffer',
      maxContentLength: MAX_BODY_BYTES,
      validateStatus: () => true,
      headers: { Accept: 'application/json' },
      insecureHTTPParser: options.lenientParser === true,
    });
  }

  /** Sends one request and resolves with the parsed body, or rejects with an `AttemptFailure`. */
  async send(request: AttemptRequest): Promise<AttemptSuccess> {
    const observation: AttemptObservation = {
      reusedSocket: false,
      connected: false,
      connectTimedOut: false,
      responseStarted: false,
      bytesReceived: 0,
      firstBytes: '',
      elapsedMs: 0,
    };
    const startedAt = Date.now();
    const context = {
      device: this.options.device,
      method: request.method,
      path: request.path,
      timeouts: this.options.timeouts,
    };

    if (request.signal.aborted) {
      const error = classifyTransportError(
        request.signal.reason,
        observation,
        request.signal,
        context,
      );
      throw new AttemptFailure(error, observation);
    }

    let response: AxiosResponse<Buffer>;
    try {
      response = await this.axios.request<Buffer>({
        method: request.method,
        url: request.path,
        data: request.body,
        headers: request.body === undefined ? undefined : { 'Content-Type': 'application/json' },
        signal: request.signal,
        transport: {
          request: (
            options: http.RequestOptions,
            onResponse: (res: http.IncomingMessage) => void,
          ) =>
            this.startRequest(options, onResponse, observation, request.freshConnection, startedAt),
        },
      } as Parameters<AxiosInstance['request']>[0]);
    } catch (cause) {
      observation.elapsedMs = Date.now() - startedAt;
      const error = classifyTransportError(cause, observation, request.signal, context);
      throw new AttemptFailure(error, observation);
    }

    observation.elapsedMs = Date.now() - startedAt;
    if (request.optional === true && (response.status === 404 || response.status === 501)) {
      return { status: response.status, data: undefined, observation };
    }
    const outcome = classifyResponse(
      response.status,
      response.headers,
      response.data,
      observation,
      context,
      request.validate,
    );
    if (outcome.error !== undefined) {
      throw new AttemptFailure(outcome.error, observation, outcome.retryAfterMs);
    }
    return { status: response.status, data: outcome.data, observation };
  }

  /** Creates the ClientRequest for axios and attaches the observers to its socket. */
  private startRequest(
    options: http.RequestOptions,
    onResponse: (res: http.IncomingMessage) => void,
    observation: AttemptObservation,
    freshConnection: boolean,
    startedAt: number,
  ): http.ClientRequest {
    if (freshConnection) {
      this.closeIdleSockets();
    }

    const create = this.secure ? https.request : http.request;
    const req = create(options, (res) => {
      observation.responseStarted = true;
      onResponse(res);
    });

    req.once('socket', (socket: Socket) => {
      this.observeSocket(req, socket, observation, startedAt);
    });
    return req;
  }

  private observeSocket(
    req: http.ClientRequest,
    socket: Socket,
    observation: AttemptObservation,
    startedAt: number,
  ): void {
    const uses = (socketUses.get(socket) ?? 0) + 1;
    socketUses.set(socket, uses);
    observation.reusedSocket = uses > 1;

    const onData = (chunk: Buffer): void => {
      if (observation.ttfbMs === undefined) {
        observation.ttfbMs = Date.now() - startedAt;
      }
      if (observation.firstBytes.length < PEEK_BYTES) {
        const missing = PEEK_BYTES - observation.firstBytes.length;
        observation.firstBytes += chunk.subarray(0, missing).toString('latin1');
      }
      observation.bytesReceived += chunk.length;
    };
    socket.on('data', onData);

    let connectTimer: NodeJS.Timeout | undefined;
    const onConnect = (): void => {
      observation.connected = true;
      clearTimeout(connectTimer);
    };
    if (socket.connecting) {
      socket.once('connect', onConnect);
      connectTimer = setTimeout(() => {
        observation.connectTimedOut = true;
        const error = new Error(
          `connect timed out after ${this.options.timeouts.connectMs} ms`,
        ) as NodeJS.ErrnoException;
        error.code = 'ETIMEDOUT';
        req.destroy(error);
      }, this.options.timeouts.connectMs);
    } else {
      observation.connected = true;
    }

    req.once('close', () => {
      clearTimeout(connectTimer);
      socket.off('data', onData);
      socket.off('connect', onConnect);
    });
  }

  /** Closes the pooled idle sockets, so that the next request opens a new connection. */
  private closeIdleSockets(): void {
    const pools = this.agent.freeSockets as NodeJS.ReadOnlyDict<Socket[]>;
    for (const sockets of Object.values(pools)) {
      for (const socket of [...(sockets ?? [])]) {
        socket.destroy();
      }
    }
  }

  /** Counts of the agent's sockets, for leak checks and diagnostics. */
  socketCounts(): { active: number; free: number; queued: number } {
    const count = (dict: NodeJS.ReadOnlyDict<unknown[]>): number =>
      Object.values(dict).reduce<number>((sum, list) => sum + (list?.length ?? 0), 0);
    return {
      active: count(this.agent.sockets as NodeJS.ReadOnlyDict<unknown[]>),
      free: count(this.agent.freeSockets as NodeJS.ReadOnlyDict<unknown[]>),
      queued: count(this.agent.requests as NodeJS.ReadOnlyDict<unknown[]>),
    };
  }

  /** Destroys the agent and resolves once every socket it had has closed. */
  async destroy(): Promise<void> {
    const sockets = [
      ...Object.values(this.agent.sockets as NodeJS.ReadOnlyDict<Socket[]>),
      ...Object.values(this.agent.freeSockets as NodeJS.ReadOnlyDict<Socket[]>),
    ].flatMap((list) => list ?? []);

    const closed = sockets
      .filter((socket) => !socket.closed)
      .map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    this.agent.destroy();
    await Promise.all(closed);
  }
}
