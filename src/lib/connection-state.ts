/**
 * The one status vocabulary of the package: the connection states a device goes through and
 * how each is shown on a node in the editor. States are derived from request outcomes only,
 * never from socket events, and never decide on their own whether a request is attempted
 * (the client's lifecycle module owns the transitions).
 */

import type { ErrorClass } from './errors';

export const CONNECTION_STATES = [
  'idle',
  'connecting',
  'connected',
  'degraded',
  'unreachable',
  'probing',
  'wrong-device',
  'closing',
  'closed',
] as const;

export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** A Node-RED status as `node.status()` takes it, with the text as an i18n key. */
export interface StatusView {
  fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape: 'ring' | 'dot';
  /** Key under the `status` section of the device node's message catalogue. */
  textKey: string;
}

const STATUS_VIEWS: Record<ConnectionState, StatusView> = {
  idle: { fill: 'grey', shape: 'ring', textKey: 'status.idle' },
  connecting: { fill: 'yellow', shape: 'ring', textKey: 'status.connecting' },
  connected: { fill: 'green', shape: 'dot', textKey: 'status.connected' },
  degraded: { fill: 'yellow', shape: 'ring', textKey: 'status.degraded' },
  unreachable: { fill: 'red', shape: 'ring', textKey: 'status.unreachable' },
  probing: { fill: 'yellow', shape: 'ring', textKey: 'status.probing' },
  'wrong-device': { fill: 'red', shape: 'dot', textKey: 'status.wrong-device' },
  closing: { fill: 'grey', shape: 'ring', textKey: 'status.closing' },
  closed: { fill: 'grey', shape: 'ring', textKey: 'status.closed' },
};

export function statusViewFor(state: ConnectionState): StatusView {
  return STATUS_VIEWS[state];
}

/** A change of a device's connection state, as the client emits it and output 2 reports it. */
export interface StateChange {
  device: string;
  from: ConnectionState;
  to: ConnectionState;
  /** Why the state changed, in plain words ("3 connection failures in a row"). */
  reason: string;
  /** Class of the failure that caused the change, when a failure did. */
  errorClass?: ErrorClass;
  /** Epoch milliseconds of the change. */
  at: number;
}
