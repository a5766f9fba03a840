/**
 * WLED's limit on WebSocket clients. When a new client makes the count exceed the limit, the
 * firmware closes its oldest client. The limit is 3 on ESP8266 and 8 on ESP32 in the firmware
 * source (WLED's own docs say 4). A client that simply reconnects after such an eviction pushes
 * out the next oldest client, such as the WLED app or Home Assistant, which reconnects in turn.
 */

import type { WledInfo } from '../client/types';

/** Returns the WebSocket client limit for the device's `info.arch`, or undefined for an
 *  architecture this table does not know. */
export function webSocketClientLimit(info: WledInfo | undefined): number | undefined {
  const arch = typeof info?.arch === 'string' ? info.arch.toLowerCase() : '';
  if (arch.startsWith('esp8266')) {
    return 3;
  }
  // ESP32 builds report "esp32" or the chip model ("ESP32-S3", "ESP32-C3").
  if (arch.startsWith('esp32')) {
    return 8;
  }
  return undefined;
}

/** Returns `info.ws`, the number of connected WebSocket clients, when the info reports one
 *  (-1 means that the firmware was built without WebSocket support). */
export function webSocketClients(info: WledInfo | undefined): number | undefined {
  const count = info?.ws;
  return typeof count === 'number' && Number.isInteger(count) ? count : undefined;
}

/** Describes the limit for log lines: "3 (esp8266)", or "its limit" when unknown. */
export function describeClientLimit(info: WledInfo | undefined): string {
  const limit = webSocketClientLimit(info);
  return limit === undefined ? 'its limit' : `${limit} (${String(info?.arch)})`;
}
