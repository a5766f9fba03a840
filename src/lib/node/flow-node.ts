/**
 * Node-RED glue shared by the three flow nodes: finds the node's device config node, registers
 * with it, runs one request per input message and routes the outcome (output 1, output 2,
 * `done(err)` for Catch nodes, the node status).
 */

import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';

import type { DeviceClientApi } from '../client/types';
import { isWledError } from '../errors';
import type { DeviceHub } from './device-hub';
import { requestFailedMessage, stateChangeMessage } from './diagnostics';
import { localizedError } from './localize';

export interface FlowNodeConfig extends NodeDef {
  /** Id of the `wled-jsonapi-device` config node. */
  device: string;
}

/** The device config node as flow nodes see it. */
export interface DeviceConfigNode extends Node {
  hub?: DeviceHub;
}

/**
 * Does the node's work for one input message and returns the new `msg.payload`. Throws a
 * `WledError`: class `invalid-input` when the message or the settings are wrong (nothing was
 * sent), any other class when the device request failed.
 */
export type RequestHandler = (msg: NodeMessageInFlow, client: DeviceClientApi) => Promise<unknown>;

type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;

export function setupFlowNode(
  RED: NodeAPI,
  node: Node,
  config: FlowNodeConfig,
  handle: RequestHandler,
): void {
  const deviceNode = RED.nodes.getNode(config.device) as DeviceConfigNode | null;
  const hub = deviceNode?.hub;

  if (!hub) {
    node.status({ fill: 'red', shape: 'ring', text: RED._('status.no-device') });
  } else {
    hub.register(node, (change) => node.send([null, stateChangeMessage(change)]));
  }

  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    void runRequest(msg, send, done);
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    hub?.deregister(node);
    done();
  });

  async function runRequest(msg: NodeMessageInFlow, send: Send, done: Done): Promise<void> {
    if (!hub) {
      done(new Error(RED._('errors.no-device')));
      return;
    }
    if (!hub.client) {
      // The device node's settings are invalid, and its error names the value and the reason.
      done(
        hub.configError
          ? localizedError(RED, hub.configError)
          : new Error(RED._('errors.no-device')),
      );
      return;
    }

    let payload: unknown;
    try {
      payload = await handle(msg, hub.client);
    } catch (err) {
      reportFailure(hub, hub.client, err, msg, send, done);
      return;
    }

    msg.payload = payload;
    send([msg, null]);
    done();
  }

  function reportFailure(
    hub: DeviceHub,
    client: DeviceClientApi,
    err: unknown,
    msg: NodeMessageInFlow,
    send: Send,
    done: Done,
  ): void {
    const error = localizedError(RED, err);

    // Bad input never reached the device, so it is no sign of the connection's health.
    if (isWledError(err) && err.errorClass === 'invalid-input') {
      done(error);
      return;
    }

    const diagnostics = requestFailedMessage(error, msg, {
      name: hub.name,
      state: hub.state,
      queueDepth: client.stats().queueDepth,
    });
    send([null, diagnostics as NodeMessage]);
    hub.showFailure(node, isWledError(err) ? err.errorClass : 'unknown');
    done(error);
  }
}
