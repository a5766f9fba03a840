import net from 'node:net';
import { JsonBufferLock } from './buffer-lock';
import { HttpConnection, type ConnectionContext } from './connection';
import { DEFAULT_DELAY_MS, FaultBook, validateFaultSpec } from './faults';
import { StatsCounter } from './stats';
import type { DeviceModel, EmulatorOptions, EmulatorStats, FaultSpec, ProfileInfo } from './types';
import { DEFAULT_BROADCAST_COOLDOWN_MS, WebSocketHub } from './websocket';

/** The firmware's receive-inactivity timeout until a response starts, in ms. */
export const DEFAULT_RECEIVE_TIMEOUT_MS = 3000;

/** Safety close of sockets left open after their response, in ms. */
export const DEFAULT_IDLE_CLOSE_MS = 10000;

/** `info.mac` reported while the `other-device` fault applies. */
const OTHER_DEVICE_MAC = '0123456789ab';

export type Latency = number | [number, number];

export interface WireServerOptions {
  host: string;
  port: number;
  latencyMs: Latency;
  receiveTimeoutMs: number;
  idleCloseMs: number;
  lockWaitMs: number;
  wsBroadcastCooldownMs: number;
}

/** Fills in the defaults of `options`, some of which depend on the firmware line. */
export function resolveWireOptions(
  options: EmulatorOptions,
  profile: ProfileInfo,
): WireServerOptions {
  const latencyMs = options.latencyMs ?? 0;
  validateLatency(latencyMs);

  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    latencyMs,
    receiveTimeoutMs: options.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS,
    idleCloseMs: options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS,
    // 16.x defers a contended request to the back of its queue instead of replying busy.
    lockWaitMs:
      profile.line === '16' ? Infinity : (options.lockWaitMs ?? defaultLockWaitMs(profile)),
    wsBroadcastCooldownMs:
      options.wsBroadcastCooldownMs ??
      (profile.line === '0.13' ? 2 * DEFAULT_BROADCAST_COOLDOWN_MS : DEFAULT_BROADCAST_COOLDOWN_MS),
  };
}

/** Returns the lock wait of the firmware line: 1000 ms on 0.13/0.14, and on 0.15 250 ms on
 *  ESP32 but none on ESP8266. */
function defaultLockWaitMs(profile: ProfileInfo): number {
  if (profile.line === '0.13' || profile.line === '0.14') {
    return 1000;
  }
  return profile.arch === 'esp32' ? 250 : 0;
}

/** Throws a `RangeError` unless `latency` is a number >= 0 or a [min, max] pair. */
export function validateLatency(latency: unknown): asserts latency is Latency {
  const valid =
    (typeof latency === 'number' && latency >= 0) ||
    (Array.isArray(latency) &&
      latency.length === 2 &&
      latency.every((value) => typeof value === 'number' && value >= 0) &&
      latency[0] <= latency[1]);
  if (!valid) {
    throw new RangeError(
      `invalid latency ${JSON.stringify(latency)}; expected milliseconds >= 0 or [min, max]`,
    );
  }
}

/**
 * The TCP side of the emulator: accepts connections up to the profile's limit, hands them to
 * `HttpConnection`, and takes the device off the network for reboots and refused connections.
 */
export class WireServer {
  private listener: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly context: ConnectionContext;
  private readonly faults = new FaultBook();
  private readonly counters = new StatsCounter();
  private readonly webSocketHub: WebSocketHub;
  private latencyMs: Latency;
  private boundPort: number;
  private upTimer: NodeJS.Timeout | undefined;
  private upAt = 0;
  private closed = false;
  private originalMac: string | undefined;
  private macTimer: NodeJS.Timeout | undefined;
  /** The down time of a reboot in progress, which `close()` cuts short. */
  private rebootWait: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  constructor(
    readonly device: DeviceModel,
    private readonly options: WireServerOptions,
  ) {
    this.latencyMs = options.latencyMs;
    this.boundPort = options.port;

    const lock = new JsonBufferLock();
    this.webSocketHub = new WebSocketHub(device, lock, {
      broadcastCooldownMs: options.wsBroadcastCooldownMs,
      isSilent: () => this.faults.isActive('ws-silent'),
    });
    this.context = {
      device,
      lock,
      faults: this.faults,
      stats: this.counters,
      webSocketHub: this.webSocketHub,
      queuedRequests: 0,
      receiveTimeoutMs: options.receiveTimeoutMs,
      idleCloseMs: options.idleCloseMs,
      lockWaitMs: options.lockWaitMs,
      nextLatencyMs: () => pickLatency(this.latencyMs),
    };
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${formatHost(this.options.host)}:${this.boundPort}`;
  }

  /** Starts listening; with port 0 the first listen picks the port that later ones reuse. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const listener = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
      listener.once('error', reject);
      listener.listen(this.boundPort, this.options.host, () => {
        listener.removeListener('error', reject);
        this.boundPort = (listener.address() as net.AddressInfo).port;
        this.listener = listener;
        resolve();
      });
    });
  }

  stats(): EmulatorStats {
    return this.counters.snapshot(this.sockets.size, this.webSocketHub.clientCount);
  }

  resetStats(): void {
    this.counters.reset();
  }

  setLatency(latencyMs: Latency): void {
    validateLatency(latencyMs);
    this.latencyMs = latencyMs;
  }

  listFaults(): FaultSpec[] {
    return this.faults.list();
  }

  /** Applies `fault`: device-wide faults act at once, the others wait for matching requests. */
  inject(fault: FaultSpec): void {
    const spec = validateFaultSpec(fault);

    switch (spec.kind) {
      case 'reboot':
        void this.reboot(spec.delayMs ?? DEFAULT_DELAY_MS.reboot).catch(() => undefined);
        return;
      case 'refuse-connections':
        if (spec.forMs !== undefined) {
          this.goOffline(spec.forMs);
          return;
        }
        break;
      case 'other-device':
        this.pretendOtherDevice(spec);
        break;
    }
    this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
    this.restoreMac();
    if (this.listener === undefined && this.upTimer !== undefined && !this.closed) {
      clearTimeout(this.upTimer);
      this.upTimer = undefined;
      void this.comeBack();
    }
  }

  /** Drops every connection, stays off the network for `downMs`, then comes back rebooted. */
  async reboot(downMs: number = DEFAULT_DELAY_MS.reboot as number): Promise<void> {
    this.stopListening();
    for (const socket of this.sockets) {
      socket.resetAndDestroy();
    }
    this.webSocketHub.closeAll();

    await new Promise<void>((resolve) => {
      this.rebootWait = { timer: setTimeout(resolve, downMs), resolve };
    });
    this.rebootWait = undefined;
    if (this.closed) {
      return;
    }
    this.device.reboot();
    if (this.upTimer === undefined) {
      await this.comeBack();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.upTimer !== undefined) {
      clearTimeout(this.upTimer);
    }
    if (this.macTimer !== undefined) {
      clearTimeout(this.macTimer);
    }
    if (this.rebootWait !== undefined) {
      clearTimeout(this.rebootWait.timer);
      this.rebootWait.resolve();
    }
    this.stopListening();
    this.webSocketHub.close();
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
  }

  private accept(socket: net.Socket): void {
    this.counters.connectionAccepted();

    // lwIP's pool of TCP control blocks is shared by HTTP and WebSocket connections.
    const overLimit = this.sockets.size >= this.device.profile.tcpConnectionLimit;
    const refused = this.faults.take(REFUSE_KINDS, '') !== undefined;
    if (overLimit || refused || this.closed) {
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return;
    }

    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    new HttpConnection(this.context, socket);
  }

  /** Closes the listener so connects fail with ECONNREFUSED for `ms`. */
  private goOffline(ms: number): void {
    this.stopListening();
    const upAt = Date.now() + ms;
    if (this.upTimer !== undefined && this.upAt >= upAt) {
      return;
    }
    if (this.upTimer !== undefined) {
      clearTimeout(this.upTimer);
    }
    this.upAt = upAt;
    this.upTimer = setTimeout(() => {
      this.upTimer = undefined;
      void this.comeBack();
    }, ms);
  }

  private async comeBack(): Promise<void> {
    // NOTE: another process could take the port while the listener is closed. Listening is
    // retried every 100 ms for 5 s, after which the device stays unreachable.
    for (let attempt = 0; attempt < RELISTEN_ATTEMPTS; attempt += 1) {
      if (this.closed || this.listener !== undefined) {
        return;
      }
      try {
        await this.listen();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private stopListening(): void {
    this.listener?.close();
    this.listener = undefined;
  }

  private pretendOtherDevice(spec: FaultSpec): void {
    if (this.originalMac === undefined) {
      const mac = this.device.snapshot().info.mac;
      this.originalMac = typeof mac === 'string' ? mac : '';
    }
    this.device.setMac(spec.mac ?? OTHER_DEVICE_MAC);

    if (spec.forMs !== undefined) {
      if (this.macTimer !== undefined) {
        clearTimeout(this.macTimer);
      }
      this.macTimer = setTimeout(() => this.restoreMac(), spec.forMs);
    }
  }

  private restoreMac(): void {
    if (this.macTimer !== undefined) {
      clearTimeout(this.macTimer);
      this.macTimer = undefined;
    }
    if (this.originalMac !== undefined) {
      this.device.setMac(this.originalMac);
      this.originalMac = undefined;
    }
  }
}

/** Attempts to listen again after a reboot or refused-connections window, 100 ms apart. */
const RELISTEN_ATTEMPTS = 50;

const REFUSE_KINDS = new Set(['refuse-connections'] as const);

function pickLatency(latency: Latency): number {
  if (typeof latency === 'number') {
    return latency;
  }
  const [min, max] = latency;
  return min + Math.floor(Math.random() * (max - min + 1));
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
