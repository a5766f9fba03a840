/**
 * The part of a device config node that its flow nodes use. It owns the device's one client
 * and keeps the flow nodes registered with it: they register on start and deregister on close,
 * as with Node-RED's MQTT broker node. Every connection state change goes to each of them as a
 * node status and through a per-node listener that sends it on output 2.
 */

import type { ConnectionState, StateChange } from '../connection-state';
import { statusViewFor } from '../connection-state';
import type { ErrorClass, WledError } from '../errors';
import type { DeviceClientApi } from '../client/types';
import type { LiveDevice } from '../live';

/** A node status as `node.status()` takes it. */
export interface NodeStatusView {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** Registered flow node, reduced to what the hub calls. */
export interface DeviceUser {
  id: string;
  status(view: NodeStatusView): void;
}

/** Translates a key of the device node's message catalogue (the node's `RED._`). */
export type Translate = (key: string, substitutions?: Record<string, string | number>) => string;

export interface DeviceHubOptions {
  /** Name of the config node, or its host when it has no name. */
  name: string;
  /** Absent when the node's settings are invalid, and `configError` then gives the reason. */
  client?: DeviceClientApi;
  configError?: WledError;
  /** The device's live state feed, which state-changed nodes subscribe to. */
  live?: LiveDevice;
  translate: Translate;
  /** How long a failed request's error class stays on the node before the state returns. */
  failureStatusMs?: number;
}

type StateListener = (change: StateChange) => void;

const DEFAULT_FAILURE_STATUS_MS = 3000;

export class DeviceHub {
  readonly name: string;
  readonly client?: DeviceClientApi;
  readonly configError?: WledError;
  readonly live?: LiveDevice;

  private readonly translate: Translate;
  private readonly failureStatusMs: number;
  private readonly users = new Map<string, { user: DeviceUser; listener: StateListener }>();
  private readonly failureTimers = new Map<string, NodeJS.Timeout>();
  private readonly onClientState = (change: StateChange): void => this.broadcast(change);

  constructor(options: DeviceHubOptions) {
    this.name = options.name;
    this.client = options.client;
    this.configError = options.configError;
    this.live = options.live;
    this.translate = options.translate;
    this.failureStatusMs = options.failureStatusMs ?? DEFAULT_FAILURE_STATUS_MS;

    this.client?.on('state', this.onClientState);
  }

  /** The device's connection state, `closed` when there is no client. */
  get state(): ConnectionState {
    return this.client ? this.client.state : 'closed';
  }

  /** Adds a flow node: it gets the current state as its status now and every change later. */
  register(user: DeviceUser, listener: StateListener): void {
    this.users.set(user.id, { user, listener });
    user.status(this.currentView());
  }

  /** Removes a flow node and its pending status timer; called from the node's close handler. */
  deregister(user: DeviceUser): void {
    this.users.delete(user.id);
    this.clearFailureTimer(user.id);
  }

  /**
   * Shows a failed request's error class on the node that sent it, then goes back to the
   * device's state. Other nodes of the device keep their status.
   */
  showFailure(user: DeviceUser, errorClass: ErrorClass | 'unknown'): void {
    this.clearFailureTimer(user.id);
    user.status({
      fill: 'red',
      shape: 'ring',
      text: this.translate('status.failed', { errorClass }),
    });

    const timer = setTimeout(() => {
      this.failureTimers.delete(user.id);
      if (this.users.has(user.id)) {
        user.status(this.currentView());
      }
    }, this.failureStatusMs);
    timer.unref();
    this.failureTimers.set(user.id, timer);
  }

  /** Stops the status timers and the live feed, detaches from the client and closes it. */
  async close(): Promise<void> {
    for (const id of [...this.failureTimers.keys()]) {
      this.clearFailureTimer(id);
    }
    this.users.clear();

    // The feed's last poll runs through the client, so the feed stops first.
    await this.live?.close();
    if (this.client) {
      this.client.off('state', this.onClientState);
      await this.client.close();
    }
  }

  private broadcast(change: StateChange): void {
    const view = this.viewFor(change.to);

    for (const { user, listener } of this.users.values()) {
      // A failure shown on this node stays until its timer restores the state.
      if (!this.failureTimers.has(user.id)) {
        user.status(view);
      }
      listener(change);
    }
  }

  private currentView(): NodeStatusView {
    if (this.configError) {
      return { fill: 'red', shape: 'ring', text: this.translate('status.invalid-config') };
    }
    return this.viewFor(this.state);
  }

  private viewFor(state: ConnectionState): NodeStatusView {
    const view = statusViewFor(state);
    return { fill: view.fill, shape: view.shape, text: this.translate(view.textKey) };
  }

  private clearFailureTimer(id: string): void {
    const timer = this.failureTimers.get(id);
    if (timer) {
      clearTimeout(timer);
      this.failureTimers.delete(id);
    }
  }
}
