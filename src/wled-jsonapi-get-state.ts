/** Flow node that reads a resource of a WLED device: its state, info, lists or presets. */

import type { Node, NodeAPI } from 'node-red';

import type { WledInfo, WledState } from './lib/client/types';
import { invalidInput } from './lib/errors';
import type { CachedState } from './lib/live';
import { setupFlowNode } from './lib/node/flow-node';
import type { DeviceConfigNode, FlowNodeConfig } from './lib/node/flow-node';
import type { ResourceName } from './lib/wled/resources';
import { isResourceName, RESOURCE_NAMES } from './lib/wled/resources';

interface GetStateNodeDef extends FlowNodeConfig {
  resource?: string;
  /** Milliseconds a cached live state may be old to answer without a request; empty or 0 = never. */
  maxAge?: string | number;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiGetStateNode(this: Node, config: GetStateNodeDef) {
    RED.nodes.createNode(this, config);
    const configured = isResourceName(config.resource) ? config.resource : 'state';
    const maxAgeMs = Number(config.maxAge) > 0 ? Number(config.maxAge) : 0;

    // Answering from the cache needs the device's live feed running, so this node keeps it on.
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
      const fromCache = cached === undefined ? undefined : cachedAnswer(resource, cached, maxAgeMs);
      if (fromCache !== undefined) {
        // A copy, so that a flow that edits its message cannot change the feed's cache.
        return structuredClone(fromCache);
      }
      const { data } = await client.read(resource);
      return data;
    });
  }

  RED.nodes.registerType('wled-jsonapi-get-state', WledJsonApiGetStateNode);
};

/**
 * Returns the cached document for `resource` when it is young enough, undefined otherwise. The
 * state's age counts from when it was last confirmed current (a live WebSocket's frames
 * confirm it); the info's age counts from the push or poll that brought it.
 */
function cachedAnswer(
  resource: ResourceName,
  cached: CachedState,
  maxAgeMs: number,
): WledState | WledInfo | undefined {
  const now = Date.now();
  if (resource === 'state' && now - cached.confirmedAt <= maxAgeMs) {
    return cached.state;
  }
  if (
    resource === 'info' &&
    cached.info !== undefined &&
    cached.infoUpdatedAt !== undefined &&
    now - cached.infoUpdatedAt <= maxAgeMs
  ) {
    return cached.info;
  }
  return undefined;
}

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
