/** Flow node that reads a resource of a WLED device: its state, info, lists or presets. */

import type { Node, NodeAPI } from 'node-red';

import { invalidInput } from './lib/errors';
import { setupFlowNode } from './lib/node/flow-node';
import type { FlowNodeConfig } from './lib/node/flow-node';
import type { ResourceName } from './lib/wled/resources';
import { isResourceName, RESOURCE_NAMES } from './lib/wled/resources';

interface GetStateNodeDef extends FlowNodeConfig {
  resource?: string;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiGetStateNode(this: Node, config: GetStateNodeDef) {
    RED.nodes.createNode(this, config);
    const configured = isResourceName(config.resource) ? config.resource : 'state';

    const invalidResource = (value: unknown): Error =>
      invalidInput(
        RED._('errors.invalid-resource', {
          value: JSON.stringify(value),
          names: RESOURCE_NAMES.join(', '),
        }),
      );

    setupFlowNode(RED, this, config, async (msg, client) => {
      const resource = resourceFrom(msg.resource, configured, invalidResource);
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
  if (!isResourceName(override)) {
    throw invalidResource(override);
  }
  return override;
}
