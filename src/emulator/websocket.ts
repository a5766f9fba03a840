import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { JsonBufferLock } from './buffer-lock';
import type { ParsedRequest } from './framing';
import type { DeviceModel } from './types';

/** Firmware's gap between WebSocket broadcasts, in ms (2000 on 0.13). */
export const DEFAULT_BROADCAST_COOLDOWN_MS = 1000;

/** Text shorter than this that starts with `p` is a heartbeat; the reply is `pong` (0.13+). */
const HEARTBEAT_MAX_BYTES = 10;

/**
 * Maximum text message size in bytes: the firmware reads one frame in one TCP segment (1460
 * bytes of MSS, less the frame header). Longer or fragmented messages get `{"error":9}`.
 * NOTE: fragmented frames are not detected here, only the length.
 */
const MAX_MESSAGE_BYTES = 1450;

export interface WebSocketHubOptions {
  broadcastCooldownMs: number;
  /** Returns whether the `ws-silent` fault applies right now. */
  isSilent: () => boolean;
}

/**
 * The `/ws` endpoint: pushes `{state, info}` on connect and after state changes, applies state
 * commands, replies to heartbeats and evicts the oldest client above the profile's limit.
 */
export class WebSocketHub {
  private readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    autoPong: false,
  });
  private readonly clients: WebSocket[] = [];
  private lastBroadcastAt = 0;
  private broadcastTimer: NodeJS.Timeout | undefined;
  private readonly stopListening: () => void;

  constructor(
    private readonly device: DeviceModel,
    private readonly lock: JsonBufferLock,
    private readonly options: WebSocketHubOptions,
  ) {
    this.stopListening = device.onChange(() => this.scheduleBroadcast());
    this.device.setWsClients(0);
  }

  get clientCount(): number {
    return this.clients.length;
  }

  /** Completes the upgrade of a socket whose request head the wire server has parsed. */
  accept(socket: Socket, request: ParsedRequest, head: Buffer): void {
    const incoming = {
      method: request.method,
      url: request.target,
      headers: request.headers,
      socket,
    } as unknown as IncomingMessage;

    this.server.handleUpgrade(incoming, socket, head, (client) => this.addClient(client));
  }

  /** Closes every client, as a reboot or shutdown does. */
  closeAll(): void {
    for (const client of [...this.clients]) {
      client.terminate();
    }
    this.clients.length = 0;
    this.device.setWsClients(0);
  }

  /** Stops broadcasting and closes every client. */
  close(): void {
    this.stopListening();
    if (this.broadcastTimer !== undefined) {
      clearTimeout(this.broadcastTimer);
      this.broadcastTimer = undefined;
    }
    this.closeAll();
    this.server.close();
  }

  private addClient(client: WebSocket): void {
    this.clients.push(client);
    this.device.setWsClients(this.clients.length);

    client.on('message', (data, isBinary) => this.handleMessage(client, data, isBinary));
    client.on('ping', (data) => {
      if (!this.options.isSilent()) {
        client.pong(data);
      }
    });
    client.on('close', () => this.removeClient(client));
    client.on('error', () => this.removeClient(client));

    this.send(client, this.stateAndInfo());

    // The firmware closes the oldest client once the count exceeds the limit.
    if (this.clients.length > this.device.profile.wsClientLimit) {
      const oldest = this.clients[0];
      this.removeClient(oldest);
      oldest.close();
    }
  }

  private removeClient(client: WebSocket): void {
    const index = this.clients.indexOf(client);
    if (index < 0) {
      return;
    }
    this.clients.splice(index, 1);
    this.device.setWsClients(this.clients.length);
  }

  private handleMessage(client: WebSocket, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      return;
    }

    const text = rawDataToBuffer(data).toString('utf8');
    if (text.startsWith('p') && Buffer.byteLength(text) < HEARTBEAT_MAX_BYTES) {
      this.send(client, 'pong');
      return;
    }
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
      this.send(client, '{"error":9}');
      return;
    }

    let command: unknown;
    try {
      command = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof command !== 'object' || command === null || Array.isArray(command)) {
      return;
    }

    this.applyCommand(client, command as Record<string, unknown>, text);
  }

  private applyCommand(client: WebSocket, command: Record<string, unknown>, text: string): void {
    // 0.15+ replies `{"error":3}` to a command that finds the buffer busy. 0.13/0.14 drop it.
    if (this.lock.busy) {
      const line = this.device.profile.line;
      if (line === '0.15' || line === '16') {
        this.send(client, '{"error":3}');
      }
      return;
    }

    const keys = Object.keys(command);
    if (keys.length === 1 && command.v === true) {
      this.send(client, this.stateAndInfo());
      return;
    }

    // NOTE: `{"lv":true}` (live LED frames) is not emulated; it is applied as a no-op command.
    // A POST to /json/si returns state and info for `"v":true`, as the WebSocket reply does.
    const response = this.device.handlePost('/json/si', text);
    if (response.status !== 200) {
      return;
    }

    // 0.13 sends no `{"success":true}` for a command without `"v":true`.
    const verbose = command.v === true;
    if (verbose || this.device.profile.line !== '0.13') {
      this.send(client, response.body);
    }
  }

  private scheduleBroadcast(): void {
    if (this.broadcastTimer !== undefined) {
      return;
    }

    const wait = Math.max(0, this.lastBroadcastAt + this.options.broadcastCooldownMs - Date.now());
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = undefined;
      this.lastBroadcastAt = Date.now();
      const message = this.stateAndInfo();
      for (const client of this.clients) {
        this.send(client, message);
      }
    }, wait);
  }

  private stateAndInfo(): string {
    return this.device.handleGet('/json/si', new URLSearchParams()).body;
  }

  private send(client: WebSocket, message: string): void {
    if (this.options.isSilent() || client.readyState !== WebSocket.OPEN) {
      return;
    }
    client.send(message);
  }
}

function rawDataToBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) {
    return Buffer.concat(data);
  }
  if (data instanceof ArrayBuffer) {
    return Buffer.from(data);
  }
  return data;
}
