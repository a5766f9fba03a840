/**
 * The emulated WLED device model: what the firmware computes for each JSON API request,
 * independent of the network layer that carries it.
 */

import type { DeviceModel } from '../types';
import { EmulatedDevice } from './device';
import { loadProfile } from './profile';
import type { RandomSource } from './values';

export { EmulatedDevice } from './device';
export {
  defaultFixturesDir,
  deriveProfileInfo,
  firmwareLineOf,
  loadProfile,
  type LoadedProfile,
  type ProfileOptions,
} from './profile';

export interface DeviceModelOptions {
  /** `builtin` (default), a folder name under `fixturesDir`, or a path to a capture folder. */
  profile?: string;
  /** Folder holding captured profile folders; `../shared/wled-fixtures` is tried last. */
  fixturesDir?: string;
  /** Number of LEDs; overrides the profile's `info.leds.count`. */
  leds?: number;
  /** Source of `"r"` random values, for reproducible tests. */
  random?: RandomSource;
  /** Clock in epoch milliseconds, for tests of uptime and the nightlight. */
  now?: () => number;
}

/** Creates a device from the built-in profile or a captured one. */
export function createDeviceModel(options: DeviceModelOptions = {}): DeviceModel {
  const loaded = loadProfile({ profile: options.profile, fixturesDir: options.fixturesDir });
  return new EmulatedDevice(loaded, {
    leds: options.leds,
    random: options.random,
    now: options.now,
  });
}
