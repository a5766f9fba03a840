/**
 * The latest-state cache of one device and the change events derived from it. Every push,
 * poll result and write response passes through `observe`, which compares it with the cached
 * state, marks resyncs after gaps and reboots, and separates changes made by this client's own writes
 * from changes made elsewhere (the device's button, the WLED app, a preset timer).
 */

import type { WledInfo, WledState } from '../client/types';
import { changedPaths } from './paths';
import type { CachedState, LiveEvent, ObservationSource, ResyncReason } from './types';

/** Keys whose write can change any other field: preset and playlist loads. */
const LOADS_ANY_FIELD = new Set(['ps', 'pl', 'playlist', 'np']);

/**
 * Fields a write may change besides its own keys. A manual change can end the active preset
 * or playlist (`ps`, `pl` become -1). WLED reports `on` as "brightness above 0", so writing
 * `bri` can switch the light on or off, while writing `on` leaves the reported `bri` alone.
 * Segment writes can move the main segment.
 */
const SIDE_EFFECTS: Record<string, string[]> = {
  '*': ['ps', 'pl'],
  bri: ['on'],
  seg: ['mainseg'],
};

interface OwnWrite {
  patch: WledState;
  /** Epoch milliseconds when the write's response (or failure) arrived; unset while it runs. */
  settledAt?: number;
}

export interface Observation {
  state: WledState;
  info?: WledInfo;
}

export class StateTracker {
  private cached: Omit<CachedState, 'confirmedAt'> | undefined;
  private rebooted = false;
  private gap = false;
  private readonly writes: OwnWrite[] = [];

  constructor(
    private readonly device: string,
    private readonly ownWriteWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get latest(): Omit<CachedState, 'confirmedAt'> | undefined {
    return this.cached;
  }

  /** Records that the device restarted, so the next push or poll resynchronises flows as a
   *  reboot. The device client detects reboots from `info.uptime`. */
  markReboot(): void {
    if (this.cached !== undefined) {
      this.rebooted = true;
    }
  }

  /** Records that the feed lost the device, so the next push or poll resynchronises flows. */
  markGap(): void {
    if (this.cached !== undefined) {
      this.gap = true;
    }
  }

  /** Forgets the cache and the writes, as when the feed stops. */
  reset(): void {
    this.cached = undefined;
    this.rebooted = false;
    this.gap = false;
    this.writes.length = 0;
  }

  /**
   * Registers a write of this client before it is sent. Call the returned function with the
   * device's response (its new state), or with nothing when the write failed. It returns the
   * change event of that response, if any.
   */
  beginWrite(patch: WledState): (response?: WledState) => LiveEvent | undefined {
    const write: OwnWrite = { patch };
    this.writes.push(write);

    return (response) => {
      write.settledAt = this.now();
      return response === undefined ? undefined : this.observe({ state: response }, 'write');
    };
  }

  /** Compares an observed state with the cache, stores it and returns the event it makes. */
  observe(observation: Observation, source: ObservationSource): LiveEvent | undefined {
    const at = this.now();
    this.dropExpiredWrites(at);

    // A write response carries no info and cannot start the cache, because the first state of the feed
    // must come from the device's own report so that it is sent as the initial resync.
    if (source === 'write' && this.cached === undefined) {
      return undefined;
    }

    const resync = source === 'write' ? undefined : this.resyncReason();
    const previous = this.cached?.state;
    const changed =
      previous === undefined
        ? Object.keys(observation.state).sort()
        : changedPaths(previous, observation.state);
    const info = observation.info ?? this.cached?.info;
    const infoUpdatedAt = observation.info !== undefined ? at : this.cached?.infoUpdatedAt;

    this.cached = { state: observation.state, info, updatedAt: at, source };
    if (infoUpdatedAt !== undefined) {
      this.cached.infoUpdatedAt = infoUpdatedAt;
    }
    if (resync === undefined && changed.length === 0) {
      return undefined;
    }

    const ownWrite =
      source === 'write' ||
      (resync === undefined && changed.every((path) => this.writtenByUs(path)));
    const event: LiveEvent = {
      device: this.device,
      state: observation.state,
      changed,
      origin: ownWrite ? 'own-write' : 'device',
      source,
      at,
    };
    if (previous !== undefined) {
      event.previous = previous;
    }
    if (info !== undefined) {
      event.info = info;
    }
    if (resync !== undefined) {
      event.resync = resync;
    }
    return event;
  }

  private resyncReason(): ResyncReason | undefined {
    const rebooted = this.rebooted;
    const gap = this.gap;
    this.rebooted = false;
    this.gap = false;

    if (this.cached === undefined) {
      return 'initial';
    }
    if (rebooted) {
      return 'reboot';
    }
    return gap ? 'reconnect' : undefined;
  }

  /** Returns whether a write of this client that is running or ended recently sets `path`. */
  private writtenByUs(path: string): boolean {
    return this.writes.some((write) => patchCovers(write.patch, path));
  }

  private dropExpiredWrites(now: number): void {
    for (let index = this.writes.length - 1; index >= 0; index -= 1) {
      const settledAt = this.writes[index].settledAt;
      if (settledAt !== undefined && now - settledAt > this.ownWriteWindowMs) {
        this.writes.splice(index, 1);
      }
    }
  }
}

/** Returns whether writing `patch` may change the field at `path`. */
export function patchCovers(patch: WledState, path: string): boolean {
  const head = path.split('.')[0];
  const keys = Object.keys(patch);

  if (keys.some((key) => LOADS_ANY_FIELD.has(key))) {
    return true;
  }
  if (SIDE_EFFECTS['*'].includes(head)) {
    return true;
  }
  return keys.some((key) => key === head || (SIDE_EFFECTS[key] ?? []).includes(head));
}
