/**
 * Shared setup of the client tests: an emulator on loopback, a client with short limits and
 * a logger that keeps what it was given.
 */

import fs from 'node:fs';
import path from 'node:path';

import { DeviceClient, type DeviceClientOptions } from '../../src/lib/client';
import type { StateChange } from '../../src/lib/connection-state';
import { WledError, type ErrorClass } from '../../src/lib/errors';
import { startEmulator, startEmulatorFor } from '../../src/emulator';
import type { DeviceModel, Emulator, EmulatorOptions } from '../../src/emulator/types';

export const repoRoot = path.join(__dirname, '..', '..');
export const fixturesDir = path.join(repoRoot, '..', 'shared', 'wled-fixtures');
export const haveFixtures = fs.existsSync(fixturesDir);

/** Limits short enough for fast tests and long enough for a loaded 2-core machine. */
export const TEST_TIMEOUTS = { connectMs: 500, responseMs: 800, totalMs: 2500 };

export interface CapturedLogger {
  debug(message: string): void;
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  lines: string[];
}

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  return {
    debug: keep('debug'),
    log: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    lines,
  };
}

export interface Harness {
  emulator: Emulator;
  client: DeviceClient;
  logger: CapturedLogger;
  /** Every state change the client emitted, in order. */
  changes: StateChange[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  /** Serve this model instead of one built from `emulator.profile`. */
  device?: DeviceModel;
  client?: Partial<DeviceClientOptions>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator =
    options.device === undefined
      ? await startEmulator({ fixturesDir, ...options.emulator })
      : await startEmulatorFor(options.device, options.emulator);
  const logger = captureLogger();
  const client = createClient(emulator.url, logger, options.client);
  const changes: StateChange[] = [];
  client.on('state', (change) => changes.push(change));

  return {
    emulator,
    client,
    logger,
    changes,
    close: async () => {
      await client.close();
      await emulator.close();
    },
  };
}

export function createClient(
  baseUrl: string,
  logger: CapturedLogger,
  options: Partial<DeviceClientOptions> = {},
): DeviceClient {
  return new DeviceClient({
    name: 'test-device',
    baseUrl,
    logger,
    ...options,
    timeouts: { ...TEST_TIMEOUTS, ...options.timeouts },
  });
}

/** Awaits `promise` and returns the `WledError` it rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<WledError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WledError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Polls `condition` every 10 ms until it is true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function classOf(error: unknown): ErrorClass | undefined {
  return error instanceof WledError ? error.errorClass : undefined;
}

/** Returns the device's state document as the emulator stores it. */
export function deviceState(emulator: Emulator): Record<string, unknown> {
  return emulator.device.snapshot().state;
}
