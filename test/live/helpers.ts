/** Shared setup of the live-state module tests: an emulator, a client and a recording listener. */

import WebSocket from 'ws';

import { startEmulator } from '../../src/emulator';
import type { Emulator, EmulatorOptions } from '../../src/emulator/types';
import { DeviceClient } from '../../src/lib/client';
import type { Logger, WledState } from '../../src/lib/client/types';
import {
  LiveDevice,
  type LiveEvent,
  type LiveListener,
  type LiveModeChange,
  type LiveOptions,
} from '../../src/lib/live';
import { channelHealth, followClient, stateAndInfoReader } from '../../src/lib/live/client-reader';

/** Short settings so that fallbacks and recoveries happen within a test's time. */
export const FAST_LIVE = {
  pollIntervalMs: 150,
  heartbeatMs: 100,
  connectTimeoutMs: 500,
  reconnectBaseMs: 100,
  reconnectMaxMs: 400,
  stableAfterMs: 1000,
};

/** A logger that keeps its lines, so a failing test can print them. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
  log(message: string): void {
    this.lines.push(`log ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

export function startFastEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ host: '127.0.0.1', port: 0, wsBroadcastCooldownMs: 50, ...options });
}

export function clientFor(emulator: Emulator, logger: Logger): DeviceClient {
  return new DeviceClient({
    name: 'test device',
    baseUrl: emulator.url,
    timeouts: { connectMs: 300, responseMs: 600, totalMs: 900 },
    recovery: { backoffBaseMs: 100, backoffMaxMs: 400 },
    logger,
  });
}

/** Builds a feed wired to the client as the device node wires it: polls, health, events. */
export function liveFor(
  emulator: Emulator,
  client: DeviceClient,
  logger: Logger,
  options: Partial<LiveOptions> = {},
): LiveDevice {
  const live = new LiveDevice({
    name: 'test device',
    baseUrl: emulator.url,
    readStateAndInfo: stateAndInfoReader(client),
    health: channelHealth(client),
    logger,
    ...FAST_LIVE,
    ...options,
  });
  followClient(live, client);
  return live;
}

/** Opens a WebSocket to the emulator, as another app would, and resolves once it is open. */
export async function otherWebSocketClient(emulator: Emulator): Promise<WebSocket> {
  const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/ws`);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('open', resolve));
  return socket;
}

/** Changes the emulated device with a plain HTTP POST, as another controller would. */
export async function postState(emulator: Emulator, patch: WledState): Promise<void> {
  const response = await fetch(`${emulator.url}/json/state`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  await response.text();
  if (!response.ok) {
    throw new Error(`POST /json/state failed with HTTP ${response.status}`);
  }
}

/** Records what a live feed sends to one subscriber. */
export class Recorder implements LiveListener {
  readonly events: LiveEvent[] = [];
  readonly modes: LiveModeChange[] = [];

  change(event: LiveEvent): void {
    this.events.push(event);
  }

  mode(change: LiveModeChange): void {
    this.modes.push(change);
  }

  /** Resolves with the first event from index `from` on that matches. */
  async event(
    predicate: (event: LiveEvent) => boolean,
    what: string,
    from = 0,
    timeoutMs = 4000,
  ): Promise<LiveEvent> {
    let found: LiveEvent | undefined;
    await waitFor(
      () => (found = this.events.slice(from).find(predicate)) !== undefined,
      what,
      timeoutMs,
    );
    return found as LiveEvent;
  }

  /** Resolves once the feed has entered `mode` at change index `from` or later. */
  async reachedMode(mode: LiveModeChange['to'], from = 0, timeoutMs = 4000): Promise<void> {
    await waitFor(
      () => this.modes.slice(from).some((change) => change.to === mode),
      `live mode ${mode}`,
      timeoutMs,
    );
  }
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Counts the process's open sockets and timers, as Node reports them. */
export function resourceCounts(): { sockets: number; timers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((kind) => kind === 'TCPSocketWrap').length,
    timers: resources.filter((kind) => kind === 'Timeout').length,
  };
}
