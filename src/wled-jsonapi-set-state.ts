/**
 * Flow node that applies a state change to a WLED device and outputs the device's new state.
 * The change comes from a typed input (`msg.payload` by default): a WLED JSON API state
 * object or a shorthand (`true`/`false`, "on"/"off"/"toggle", a brightness 0-255).
 */

import type { Node, NodeAPI, NodeMessage } from 'node-red';

import { applyState } from './lib/client/apply-state';
import { invalidInput } from './lib/errors';
import { localizeError } from './lib/node/localize';
import { setupFlowNode } from './lib/node/flow-node';
import type { FlowNodeConfig } from './lib/node/flow-node';
import { parseSetStatePayload } from './lib/wled/set-state-payload';

interface SetStateNodeDef extends FlowNodeConfig {
  /** Source of the state change: a property name, JSON text or a JSONata expression. */
  payload?: string;
  payloadType?: string;
  /** Crossfade for this change in seconds; empty keeps the device's own transition. */
  transition?: string | number;
  /** Preset to apply with every message; empty for none. */
  preset?: string | number;
}

export = function (RED: NodeAPI): void {
  function WledJsonApiSetStateNode(this: Node, config: SetStateNodeDef) {
    RED.nodes.createNode(this, config);
    const source = readSource(RED, this, config);
    const transitionTenths = tenthsOfSecond(config.transition);
    const preset = presetId(config.preset);

    setupFlowNode(RED, this, config, async (msg, client) => {
      const value = await evaluate(RED, source, msg, config);
      const patch = buildPatch(value, preset);

      // `tt` is WLED's one-shot transition (unit 100 ms): unlike `transition` it does not
      // change the device's default crossfade.
      if (transitionTenths !== undefined && !('transition' in patch) && !('tt' in patch)) {
        patch.tt = transitionTenths;
      }

      const { state, readBackError } = await applyState(client, patch);
      if (readBackError !== undefined) {
        this.warn(RED._('warnings.read-back-failed', { error: localizeError(RED, readBackError) }));
      }
      return state;
    });
  }

  RED.nodes.registerType('wled-jsonapi-set-state', WledJsonApiSetStateNode);
};

type Source = (msg: NodeMessage) => Promise<unknown>;

/** Returns a function that evaluates the node's typed input against a message. */
function readSource(RED: NodeAPI, node: Node, config: SetStateNodeDef): Source {
  const type = config.payloadType || 'msg';
  const value = config.payload ?? 'payload';

  if (type === 'jsonata') {
    // Parsed once here rather than for every message.
    const expression = RED.util.prepareJSONataExpression(value, node);
    return (msg) =>
      new Promise((resolve, reject) => {
        RED.util.evaluateJSONataExpression(expression, msg, (err, result) =>
          err ? reject(err) : resolve(result),
        );
      });
  }

  return (msg) =>
    new Promise((resolve, reject) => {
      RED.util.evaluateNodeProperty(value, type, node, msg, (err, result) =>
        err ? reject(err) : resolve(result),
      );
    });
}

/** Evaluates the typed input; a failure there is bad input, not a device failure. */
async function evaluate(
  RED: NodeAPI,
  source: Source,
  msg: NodeMessage,
  config: SetStateNodeDef,
): Promise<unknown> {
  try {
    return await source(msg);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidInput('node.translated', {
      text: RED._('errors.source-failed', {
        type: config.payloadType || 'msg',
        value: config.payload ?? 'payload',
        reason,
      }),
    });
  }
}

/** Builds the patch: the preset alone when the source gives nothing, else the parsed change plus the preset. */
function buildPatch(value: unknown, preset: number | undefined): Record<string, unknown> {
  if (value === undefined && preset !== undefined) {
    return { ps: preset };
  }

  const patch = { ...parseSetStatePayload(value) };
  if (preset !== undefined && !('ps' in patch)) {
    patch.ps = preset;
  }
  return patch;
}

/** Converts the editor's seconds into WLED's 100 ms units; empty text means not set. */
function tenthsOfSecond(seconds: string | number | undefined): number | undefined {
  if (seconds === undefined || seconds === '') {
    return undefined;
  }
  const parsed = Number(seconds);
  if (!Number.isFinite(parsed) || parsed < 0) {
    return undefined;
  }
  // 65535 is the largest value WLED stores for a transition.
  return Math.min(Math.round(parsed * 10), 65535);
}

function presetId(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') {
    return undefined;
  }
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
}
