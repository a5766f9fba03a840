/**
 * Applying a state change and reporting the state the device shows afterwards, for the
 * set-state node.
 */

import { isWledError, type WledError } from '../errors';
import { appliesAfterAnswer } from '../wled/state-patch';
import type { DeviceClientApi, RequestOptions, WledState } from './types';

/** Pause before reading again when the preset is not shown yet, in milliseconds. WLED loads a
 *  preset in its next loop pass, normally within a few ms; 100 ms is an estimate that leaves
 *  room for a loop slowed by many LEDs. */
const PRESET_SETTLE_MS = 100;

export interface AppliedState {
  /** The device's state after the change. */
  state: WledState;
  /** The failure of the read after a preset or playlist; `state` is then the write's
   *  response, which predates them. */
  readBackError?: WledError;
}

/**
 * Sends a state patch and returns the device's state after it. WLED loads presets and
 * playlists only after it has responded, so for those the state is read once more. That read
 * never shares a request sent before the write, and it is repeated after a short pause when
 * the requested preset is not shown yet. A failed read does not fail the call, because the
 * write itself was applied.
 */
export async function applyState(
  client: DeviceClientApi,
  patch: WledState,
  options: RequestOptions = {},
): Promise<AppliedState> {
  const written = await client.setState(patch, options);
  if (!appliesAfterAnswer(patch)) {
    return { state: written.data };
  }

  const readOptions = { ...options, fresh: true };
  try {
    let state = (await client.read('state', readOptions)).data as WledState;
    if (typeof patch.ps === 'number' && state.ps !== patch.ps) {
      await new Promise((resolve) => setTimeout(resolve, PRESET_SETTLE_MS));
      state = (await client.read('state', readOptions)).data as WledState;
    }
    return { state };
  } catch (error) {
    if (!isWledError(error)) {
      throw error;
    }
    return { state: written.data, readBackError: error };
  }
}
