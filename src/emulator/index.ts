/**
 * A WLED device on loopback for tests, demos and benchmarks: the device model (state
 * semantics, routing, response bodies) behind a raw-TCP server that frames, delays and breaks
 * responses the way the firmware and its network stack do.
 */

import type http from 'node:http';
import { controlPortOf, startControlServer } from './control';
import { createDeviceModel } from './model';
import { WireServer, resolveWireOptions } from './server';
import type { DeviceModel, Emulator, EmulatorOptions } from './types';

export * from './types';
export { recordDevice } from './record';
export type { RecordOptions, RecordResult } from './record';
export { CONTROL_ROUTES } from './control';

/** Loads the profile, builds the device model and starts serving it. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const device = createDeviceModel({
    profile: options.profile,
    fixturesDir: options.fixturesDir,
    leds: options.leds,
  });
  return startEmulatorFor(device, options);
}

/**
 * Serves an existing device model. Tests use it to run the wire server against a model whose
 * profile they adjust (another firmware line's busy behaviour, a smaller connection limit).
 */
export async function startEmulatorFor(
  device: DeviceModel,
  options: EmulatorOptions = {},
): Promise<Emulator> {
  const wire = new WireServer(device, resolveWireOptions(options, device.profile));
  await wire.listen();

  let control: http.Server | undefined;
  if (options.controlPort !== undefined) {
    try {
      control = await startControlServer(wire, options.host ?? '127.0.0.1', options.controlPort);
    } catch (error) {
      await wire.close();
      throw error;
    }
  }

  const controlUrl =
    control === undefined
      ? undefined
      : `http://${hostForUrl(options.host)}:${controlPortOf(control)}`;

  return {
    get url() {
      return wire.url;
    },
    get port() {
      return wire.port;
    },
    controlUrl,
    device,
    stats: () => wire.stats(),
    resetStats: () => wire.resetStats(),
    inject: (fault) => wire.inject(fault),
    clearFaults: () => wire.clearFaults(),
    setLatency: (latencyMs) => wire.setLatency(latencyMs),
    reboot: (downMs) => wire.reboot(downMs),
    close: async () => {
      await wire.close();
      if (control !== undefined) {
        control.closeAllConnections();
        await new Promise((resolve) => control?.close(resolve));
      }
    },
  };
}

function hostForUrl(host: string | undefined): string {
  const value = host ?? '127.0.0.1';
  return value.includes(':') ? `[${value}]` : value;
}
