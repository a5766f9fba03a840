/**
 * Emulators and constants shared by the benchmarks. Every emulator listens on 127.0.0.1 on a
 * port the OS picks.
 */

import fs from 'node:fs';
import path from 'node:path';

import { startEmulator } from '../src/emulator';
import type { Emulator, EmulatorOptions } from '../src/emulator/types';

export const repoRoot = path.join(__dirname, '..');

/** Captured firmware responses, kept beside the repository and absent from a plain clone. */
export const fixturesDir = path.join(repoRoot, '..', 'shared', 'wled-fixtures');

/**
 * Wi-Fi-like latency the emulator adds before each response, drawn uniformly per request, in
 * ms. It is an assumed range for an ESP on a home network (a LAN round trip plus the device's
 * handling), not a measurement.
 */
export const WIFI_LATENCY_MS: [number, number] = [20, 60];

export interface BenchEmulator {
  emulator: Emulator;
  /** Profile in use, with the reason when the preferred one was not available. */
  profileNote: string;
}

/**
 * Starts an emulator on `preferred` (a folder of the captured fixtures) when the fixtures are
 * present, else on the built-in profile.
 */
export async function startBenchEmulator(
  preferred: string | undefined,
  options: EmulatorOptions = {},
): Promise<BenchEmulator> {
  const base: EmulatorOptions = { ...options, host: '127.0.0.1', port: 0 };

  if (preferred === undefined) {
    return {
      emulator: await startEmulator({ ...base, profile: 'builtin' }),
      profileNote: 'builtin',
    };
  }
  if (!fs.existsSync(path.join(fixturesDir, preferred, 'info.json'))) {
    return {
      emulator: await startEmulator({ ...base, profile: 'builtin' }),
      profileNote: `builtin (${preferred} not found: ${fixturesDir} is missing)`,
    };
  }
  return {
    emulator: await startEmulator({ ...base, profile: preferred, fixturesDir }),
    profileNote: preferred,
  };
}

/** Describes a latency setting for table titles. */
export function latencyLabel(latencyMs: number | [number, number]): string {
  return typeof latencyMs === 'number' ? `${latencyMs} ms` : `${latencyMs[0]}-${latencyMs[1]} ms`;
}
