/**
 * Flow node that sets an effect, its speed, intensity, palette and colours on one or more
 * segments. Effect and palette names resolve against the device's own lists.
 */

import type { Node, NodeAPI } from 'node-red';

import { setupFlowNode } from './lib/node/flow-node';
import type { FlowNodeConfig } from './lib/node/flow-node';
import type { EffectSettings } from './lib/wled/effect-payload';
import { buildEffectPatch, missingSegments, parseEffectInput } from './lib/wled/effect-payload';

interface EffectNodeDef extends FlowNodeConfig {
  /** Effect name or id; empty leaves the effect unchanged. */
  effect?: string;
  speed?: string | number;
  intensity?: string | number;
  palette?: string;
  /** Whether the three colour fields are sent. */
  setColors?: boolean;
  color1?: string;
  color2?: string;
  color3?: string;
  /** Segment ids separated by commas; empty for the main segment. */
  segments?: string;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiEffectNode(this: Node, config: EffectNodeDef) {
    RED.nodes.createNode(this, config);
    const configured = settingsFrom(config);

    setupFlowNode(RED, this, config, async (msg, client) => {
      const settings = parseEffectInput(configured, msg.payload);
      const lists = await client.effectLists();
      const { data } = await client.setState(buildEffectPatch(settings, lists));

      // The write succeeded, but a segment the device lacks was silently left out by WLED.
      const missing = missingSegments(settings, data);
      if (missing.length > 0) {
        this.warn(RED._('warnings.missing-segments', { ids: missing.join(', ') }));
      }
      return data;
    });
  }

  RED.nodes.registerType('wled-jsonapi-effect', WledJsonApiEffectNode);
};

/** Turns the editor's text fields into settings, leaving empty fields out. */
function settingsFrom(config: EffectNodeDef): EffectSettings {
  const settings: EffectSettings = {};

  if (config.effect) {
    settings.effect = config.effect;
  }
  const speed = numberOrUndefined(config.speed);
  if (speed !== undefined) {
    settings.speed = speed;
  }
  const intensity = numberOrUndefined(config.intensity);
  if (intensity !== undefined) {
    settings.intensity = intensity;
  }
  if (config.palette) {
    settings.palette = config.palette;
  }
  if (config.setColors) {
    settings.colors = [config.color1, config.color2, config.color3].map(
      (color) => color || '#000000',
    );
  }

  const segments = (config.segments ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (segments.length > 0) {
    settings.segments = segments;
  }

  return settings;
}

/** Empty means not set; anything else goes to the parser, which rejects values outside 0-255. */
function numberOrUndefined(value: string | number | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}
