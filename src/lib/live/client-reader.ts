/** Connects the live feed to the device client: its polls and its health reports. */

import type { DeviceClient } from '../client';
import type { ChannelHealthHooks, StateAndInfoReader } from './types';

/**
 * Builds the poll reader of a device. It reads through the client, so polls wait in the same
 * lane as the nodes' requests and their outcomes drive the device's connection state.
 */
export function stateAndInfoReader(client: DeviceClient): StateAndInfoReader {
  return async (signal) => (await client.readStateAndInfo({ signal })).data;
}

/** Builds the hooks that pass the WebSocket's health on to the client's connection state. */
export function channelHealth(client: DeviceClient): ChannelHealthHooks {
  return {
    reachable: () => client.recordLiveChannel(),
    failed: (error) => client.recordLiveChannel(error),
  };
}
