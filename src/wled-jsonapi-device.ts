/**
 * Config node for one WLED device. It creates the device's only client when it starts, shares
 * it with the flow nodes registered with it and closes it when it stops.
 */

import type { Node, NodeAPI, NodeDef } from 'node-red';

import { DeviceClient } from './lib/client';
import { DEFAULT_RECOVERY } from './lib/client/lifecycle';
import type { DeviceTimeouts, Logger } from './lib/client/types';
import { DEFAULT_TIMEOUTS } from './lib/client/types';
import { WledError } from './lib/errors';
import { DEFAULT_LIVE_SETTINGS, LiveDevice } from './lib/live';
import { channelHealth, followClient, stateAndInfoReader } from './lib/live/client-reader';
import { maskCredentials, parseHost } from './lib/wled/host';
import { DEVICE_TYPE, registerAdminRoutes } from './lib/node/admin';
import { AddressRegistry } from './lib/node/address-registry';
import { DeviceHub } from './lib/node/device-hub';
import { localizeError } from './lib/node/localize';
import type { DeviceConfigNode } from './lib/node/flow-node';

interface DeviceNodeDef extends NodeDef {
  host: string;
  /** Timeouts in milliseconds, as text from the editor; empty means the default. */
  connectTimeout?: string | number;
  responseTimeout?: string | number;
  totalTimeout?: string | number;
  maxInFlight?: string | number;
  minWriteSpacing?: string | number;
  /** Whether responses are parsed with Node's lenient HTTP parser (absent = false). */
  lenientParser?: boolean;
  /** Whether an https address may present any certificate (absent = false). */
  acceptAnyCertificate?: boolean;
  /** Milliseconds between `/json/si` polls while the WebSocket is down; empty means the default. */
  pollInterval?: string | number;
  /** Milliseconds between WebSocket heartbeat pings; empty means the default. */
  heartbeat?: string | number;
  /** Whether live state polls `/json/si` without trying the WebSocket (absent = false). */
  pollOnly?: boolean;
}

/** Shortest poll and heartbeat interval accepted from the editor, in milliseconds. */
const MIN_LIVE_INTERVAL_MS = 100;

interface DeviceCredentials {
  username?: string;
  password?: string;
}

export = function (RED: NodeAPI): void {
  const addresses = new AddressRegistry();

  function WledJsonApiDeviceNode(this: Node, config: DeviceNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this as DeviceConfigNode;
    const credentials = (node.credentials ?? {}) as DeviceCredentials;
    // The name goes into every log line and diagnostics message, so never a typed password.
    const name = config.name || (config.host ? maskCredentials(config.host.trim()) : node.id);
    const translate = (key: string, substitutions?: Record<string, string | number>): string =>
      RED._(key, substitutions);

    /** Reads a live interval from the editor and warns when a value below the minimum is
     *  replaced by the default, instead of replacing it silently. */
    const liveInterval = (
      field: 'pollInterval' | 'heartbeat',
      value: string | number | undefined,
      fallback: number,
    ): number => {
      const parsed = typeof value === 'number' ? value : Number.parseFloat(value ?? '');
      if (Number.isFinite(parsed) && parsed < MIN_LIVE_INTERVAL_MS) {
        node.warn(
          RED._(
            field === 'pollInterval'
              ? 'errors.poll-interval-too-short'
              : 'errors.heartbeat-too-short',
            {
              value: String(value),
              min: MIN_LIVE_INTERVAL_MS,
              fallback,
            },
          ),
        );
      }
      return numberOr(value, fallback, MIN_LIVE_INTERVAL_MS);
    };

    let baseUrl: string;
    try {
      baseUrl = parseHost(config.host ?? '').baseUrl;
    } catch (err) {
      // Flow nodes show the problem as their status and fail their messages with it.
      const configError = err as WledError;
      node.error(RED._('errors.invalid-host', { message: localizeError(RED, configError) }));
      node.hub = new DeviceHub({ name, configError, translate });
      return;
    }

    const timeouts = timeoutsFrom(config);
    const logger = nodeLogger(node);
    // The client's probes and the feed's WebSocket reconnects share one backoff.
    const recovery = { ...DEFAULT_RECOVERY };
    // Typed explicitly: the client and the feed refer to each other through callbacks.
    const client: DeviceClient = new DeviceClient({
      name,
      baseUrl,
      username: credentials.username || undefined,
      password: credentials.password || undefined,
      timeouts,
      maxInFlight: Number(config.maxInFlight) === 2 ? 2 : 1,
      minWriteSpacingMs: numberOr(config.minWriteSpacing, 0, 0),
      lenientParser: config.lenientParser === true,
      acceptAnyCertificate: config.acceptAnyCertificate === true,
      recovery,
      // Marks the changes of this Node-RED's own writes for the state-changed nodes.
      onWrite: (patch) => live.beginWrite(patch),
      logger,
    });

    // The feed opens its WebSocket only while a node subscribes, so creating it costs nothing.
    const live: LiveDevice = new LiveDevice({
      name,
      baseUrl,
      username: credentials.username || undefined,
      password: credentials.password || undefined,
      readStateAndInfo: stateAndInfoReader(client),
      health: channelHealth(client),
      logger,
      useWebSocket: config.pollOnly !== true,
      pollIntervalMs: liveInterval(
        'pollInterval',
        config.pollInterval,
        DEFAULT_LIVE_SETTINGS.pollIntervalMs,
      ),
      heartbeatMs: liveInterval('heartbeat', config.heartbeat, DEFAULT_LIVE_SETTINGS.heartbeatMs),
      connectTimeoutMs: timeouts.connectMs,
      reconnectBaseMs: recovery.backoffBaseMs,
      reconnectMaxMs: recovery.backoffMaxMs,
    });
    followClient(live, client);
    node.hub = new DeviceHub({ name, client, live, translate });

    const others = addresses.add(baseUrl, node.id, name);
    if (others.length > 0) {
      const quoted = others.map((other) => `"${other}"`).join(', ');
      node.warn(RED._('errors.shared-address', { address: baseUrl, others: quoted }));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      addresses.remove(baseUrl, node.id);
      const hub = node.hub;
      node.hub = undefined;
      hub
        ?.close()
        .catch((err: unknown) => node.warn(RED._('errors.close-failed', { error: String(err) })))
        .finally(done);
    });
  }

  RED.nodes.registerType(DEVICE_TYPE, WledJsonApiDeviceNode, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });

  registerAdminRoutes(RED, runtimeLogger(RED));
};

function timeoutsFrom(config: DeviceNodeDef): DeviceTimeouts {
  return {
    connectMs: numberOr(config.connectTimeout, DEFAULT_TIMEOUTS.connectMs),
    responseMs: numberOr(config.responseTimeout, DEFAULT_TIMEOUTS.responseMs),
    totalMs: numberOr(config.totalTimeout, DEFAULT_TIMEOUTS.totalMs),
  };
}

/** Reads a number from an editor field; empty text or a value below `min` gives the default. */
function numberOr(value: string | number | undefined, fallback: number, min = 1): number {
  const parsed = typeof value === 'number' ? value : Number.parseFloat(value ?? '');
  return Number.isFinite(parsed) && parsed >= min ? parsed : fallback;
}

/** Writes the client's log lines through the node, so they carry its id and name. */
function nodeLogger(node: Node): Logger {
  return {
    debug: (message) => node.debug(message),
    log: (message) => node.log(message),
    warn: (message) => node.warn(message),
    error: (message) => node.error(message),
  };
}

/** Logger for the short-lived clients of the admin probe routes, which belong to no node. */
function runtimeLogger(RED: NodeAPI): Logger {
  return {
    debug: (message) => RED.log.debug(message),
    log: (message) => RED.log.info(message),
    warn: (message) => RED.log.warn(message),
    error: (message) => RED.log.error(message),
  };
}
