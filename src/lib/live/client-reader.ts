/** Connects the live feed to the device client: its polls, its health reports and its events. */

import type { DeviceClient } from '../client';
import type { LiveDevice } from './index';
import type { ChannelHealthHooks, StateAndInfoReader } from './types';

/**
 * Builds the poll reader of a device. It reads through the client, so polls wait in the same
 * lane as the nodes' requests and their outcomes drive the device's connection state.
 */
export function stateAndInfoReader(client: DeviceClient): StateAndInfoReader {
  return async (signal) => (await client.readStateAndInfo({ signal })).data;
}

/** Builds the hooks that pass the WebSocket's documents and health on to the client. */
export function channelHealth(client: DeviceClient): ChannelHealthHooks {
  return {
    reachable: (document) => {
      // Identity first: a document from another device must not count as a sign of life.
      client.observeLiveDocument(document);
      client.recordLiveChannel();
    },
    failed: (error) => client.recordLiveChannel(error),
  };
}

/** Lets the feed follow the client's connection state and the reboots the client detects. */
export function followClient(live: LiveDevice, client: DeviceClient): void {
  client.on('state', (change) => live.followConnectionState(change));
  client.on('reboot', () => live.followReboot());
}
