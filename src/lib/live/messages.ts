/**
 * Messages and status of the state-changed node: the filters of its editor applied to a live
 * event, the output-1 message built from it, the output-2 message for a change of the live
 * mode, and the node status for each mode.
 */

import type { WledInfo, WledState } from '../client/types';
import type { StatusView } from '../connection-state';
import { invalidInput } from '../errors';
import { parsePathList, pathMatches } from './paths';
import type { LiveEvent, LiveMode, LiveModeChange, ObservationSource, ResyncReason } from './types';

export interface ChangeFilter {
  /** Path patterns (`bri`, `seg.*.fx`); empty = every path. Relative to the segment when
   *  `segment` is set and the pattern does not start with `seg`. */
  properties: string[];
  /** Only paths of this segment id; absent = every path. */
  segment?: number;
  /** Drop changes that this Node-RED's own writes made. */
  ignoreOwnWrites: boolean;
}

/**
 * Builds the filter from the editor's fields. Throws `invalid-input` for a segment that is no
 * segment id.
 */
export function parseChangeFilter(fields: {
  properties?: string;
  segment?: string | number;
  ignoreOwnWrites?: boolean;
}): ChangeFilter {
  const filter: ChangeFilter = {
    properties: parsePathList(fields.properties ?? ''),
    ignoreOwnWrites: fields.ignoreOwnWrites === true,
  };

  const segmentText = String(fields.segment ?? '').trim();
  if (segmentText !== '') {
    const segment = Number(segmentText);
    if (!Number.isInteger(segment) || segment < 0) {
      throw invalidInput('input.invalid-segment-filter', { value: JSON.stringify(segmentText) });
    }
    filter.segment = segment;
  }
  return filter;
}

/**
 * Returns the changed paths the filter selects, or undefined when the event must not be sent.
 * A resync is always sent, even when the filter selects none of its paths, so that flows can
 * take over the full state.
 */
export function selectChanges(event: LiveEvent, filter: ChangeFilter): string[] | undefined {
  if (event.resync === undefined && filter.ignoreOwnWrites && event.origin === 'own-write') {
    return undefined;
  }

  const patterns = patternsOf(filter);
  const selected =
    patterns.length === 0
      ? event.changed
      : event.changed.filter((path) => patterns.some((pattern) => pathMatches(pattern, path)));

  if (selected.length === 0 && event.resync === undefined) {
    return undefined;
  }
  return selected;
}

function patternsOf(filter: ChangeFilter): string[] {
  if (filter.segment === undefined) {
    return filter.properties;
  }
  const segmentPath = `seg.${filter.segment}`;
  if (filter.properties.length === 0) {
    return [segmentPath];
  }
  return filter.properties.map((pattern) =>
    pattern === 'seg' || pattern.startsWith('seg.') ? pattern : `${segmentPath}.${pattern}`,
  );
}

/** Output 1 of the state-changed node. */
export interface StateChangedMessage {
  /** Name of the device config node, or its host when it has no name. */
  topic: string;
  payload: WledState;
  previous?: WledState;
  changed: string[];
  info?: WledInfo;
  origin: LiveEvent['origin'];
  source: ObservationSource;
  resync?: ResyncReason;
  [key: string]: unknown;
}

/** Builds output 1 from an event. The state, previous state and info are copies, because the
 *  event's objects are the feed's cache and flows may edit their messages. */
export function stateChangedMessage(event: LiveEvent, changed: string[]): StateChangedMessage {
  const msg: StateChangedMessage = {
    topic: event.device,
    payload: structuredClone(event.state),
    changed,
    origin: event.origin,
    source: event.source,
  };
  if (event.previous !== undefined) {
    msg.previous = structuredClone(event.previous);
  }
  if (event.info !== undefined) {
    msg.info = structuredClone(event.info);
  }
  if (event.resync !== undefined) {
    msg.resync = event.resync;
  }
  return msg;
}

/** `msg.payload` of the output-2 message sent when the live mode changes. */
export interface LiveModePayload extends Omit<LiveModeChange, 'errorClass'> {
  event: 'live-mode';
  errorClass?: LiveModeChange['errorClass'];
}

export function liveModeMessage(change: LiveModeChange): {
  topic: string;
  payload: LiveModePayload;
} {
  const payload: LiveModePayload = {
    event: 'live-mode',
    device: change.device,
    from: change.from,
    to: change.to,
    reason: change.reason,
    at: change.at,
  };
  if (change.errorClass !== undefined) {
    payload.errorClass = change.errorClass;
  }
  return { topic: 'live-mode', payload };
}

const MODE_VIEWS: Record<LiveMode, StatusView> = {
  stopped: { fill: 'grey', shape: 'ring', textKey: 'status.stopped' },
  connecting: { fill: 'yellow', shape: 'ring', textKey: 'status.connecting' },
  websocket: { fill: 'green', shape: 'dot', textKey: 'status.websocket' },
  polling: { fill: 'blue', shape: 'dot', textKey: 'status.polling' },
  disconnected: { fill: 'red', shape: 'ring', textKey: 'status.disconnected' },
};

/** Returns the node status for a live mode; `textKey` is a key of the state-changed node's catalogue. */
export function liveStatusView(mode: LiveMode): StatusView {
  return MODE_VIEWS[mode];
}
