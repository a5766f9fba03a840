/** Flow node that reads a resource of a WLED device: its state, info, lists or presets. */

import type { Node, NodeAPI } from 'node-red';

import { invalidInput } from './lib/errors';
import { cachedDocument } from './lib/live/cache';
import { setupFlowNode } from './lib/node/flow-node';
import type { DeviceConfigNode, FlowNodeConfig } from './lib/node/flow-node';
import type { ResourceName } from './lib/wled/resources';
import { isResourceName, RESOURCE_NAMES } from './lib/wled/resources';

interface GetStateNodeDef extends FlowNodeConfig {
  resource?: string;
  /** Maximum age in ms of a cached live document returned without a request; empty or 0 = never. */
  maxAge?: string | number;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiGetStateNode(this: Node, config: GetStateNodeDef) {
    RED.nodes.createNode(this, config);
    const configured = isResourceName(config.resource) ? config.resource : 'state';
    const maxAgeMs = Number(config.maxAge) > 0 ? Number(config.maxAge) : 0;

    // Reading from the cache needs the device's live feed running, so this node keeps it on.
    const live = (RED.nodes.getNode(config.device) as DeviceConfigNode | null)?.hub?.live;
    const leaveLive =
      maxAgeMs > 0 && live ? live.subscribe({ change: () => undefined }) : undefined;
    this.on('close', () => leaveLive?.());

    const invalidResource = (value: unknown): Error =>
      invalidInput('node.translated', {
        text: RED._('errors.invalid-resource', {
          value: JSON.stringify(value),
          names: RESOURCE_NAMES.join(', '),
        }),
      });

    setupFlowNode(RED, this, config, async (msg, client) => {
      const resource = resourceFrom(msg.resource, configured, invalidResource);
      const cached = maxAgeMs > 0 ? live?.latest : undefined;
      const fromCache = cached && cachedDocument(resource, cached, maxAgeMs);
      if (fromCache !== undefined) {
        return fromCache;
      }
      const { data } = await client.read(resource);
      return data;
    });
  }

  RED.nodes.registerType('wled-jsonapi-get-state', WledJsonApiGetStateNode);
};

/** Picks `msg.resource` when present, the editor's choice otherwise. */
function resourceFrom(
  override: unknown,
  configured: ResourceName,
  invalidResource: (value: unknown) => Error,
): ResourceName {
  if (override === undefined || override === null || override === '') {
    return configured;
  }
  // Letter case is ignored, as for the set-state shorthands ("ON", "Off").
  const name = typeof override === 'string' ? override.trim().toLowerCase() : override;
  if (!isResourceName(name)) {
    throw invalidResource(override);
  }
  return name;
}
