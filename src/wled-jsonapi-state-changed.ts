/**
 * Flow node without input that sends a message whenever its device's state changes: pushed
 * over the device's WebSocket, or polled from `/json/si` while the WebSocket cannot be used.
 */

import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';

import type { LiveDevice, LiveMode } from './lib/live';
import {
  liveModeMessage,
  liveStatusView,
  parseChangeFilter,
  selectChanges,
  stateChangedMessage,
  type ChangeFilter,
} from './lib/live/messages';
import type { NodeStatusView } from './lib/node/device-hub';
import { stateChangeMessage } from './lib/node/diagnostics';
import type { DeviceConfigNode } from './lib/node/flow-node';
import { localizeError } from './lib/node/localize';

interface StateChangedNodeDef extends NodeDef {
  /** Id of the `wled-jsonapi-device` config node. */
  device: string;
  /** Path patterns separated by commas (`on, bri, seg.*.fx`); empty = every change. */
  properties?: string;
  /** Segment id as text; empty = every segment. */
  segment?: string;
  ignoreOwnWrites?: boolean;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiStateChangedNode(this: Node, config: StateChangedNodeDef) {
    RED.nodes.createNode(this, config);
    setupStateChangedNode(RED, this, config);
  }

  RED.nodes.registerType('wled-jsonapi-state-changed', WledJsonApiStateChangedNode);
};

function setupStateChangedNode(RED: NodeAPI, node: Node, config: StateChangedNodeDef): void {
  let filter: ChangeFilter;
  try {
    filter = parseChangeFilter(config);
  } catch (err) {
    node.error(localizeError(RED, err));
    node.status({ fill: 'red', shape: 'ring', text: RED._('status.invalid-filter') });
    return;
  }

  const deviceNode = RED.nodes.getNode(config.device) as DeviceConfigNode | null;
  const hub = deviceNode?.hub;
  if (!hub) {
    node.status({ fill: 'red', shape: 'ring', text: RED._('status.no-device') });
    return;
  }

  const live = hub.live;
  const showMode = (mode: LiveMode): void => {
    const view = liveStatusView(mode);
    node.status({ fill: view.fill, shape: view.shape, text: RED._(view.textKey) });
  };

  // The node's status shows the live mode; the hub's connection states reach output 2 only.
  // Without a live feed the device's settings are invalid, and the hub's status shows that.
  const user = {
    id: node.id,
    status: (view: NodeStatusView) => {
      if (!live) {
        node.status(view);
      }
    },
  };
  hub.register(user, (change) => node.send([null, stateChangeMessage(change) as NodeMessage]));

  const unsubscribe = live ? subscribe(live, filter) : () => undefined;

  node.on('close', (_removed: boolean, done: () => void) => {
    unsubscribe();
    hub.deregister(user);
    done();
  });

  function subscribe(feed: LiveDevice, changeFilter: ChangeFilter): () => void {
    const leave = feed.subscribe({
      change: (event) => {
        const changed = selectChanges(event, changeFilter);
        if (changed !== undefined) {
          node.send([stateChangedMessage(event, changed) as NodeMessage, null]);
        }
      },
      mode: (change) => {
        showMode(change.to);
        node.send([null, liveModeMessage(change) as NodeMessage]);
      },
    });
    showMode(feed.mode);
    return leave;
  }
}
