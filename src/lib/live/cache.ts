/**
 * The rule by which a get-state node may return the live feed's cached documents instead of
 * sending a request.
 */

import type { WledInfo, WledState } from '../client/types';
import type { ResourceName } from '../wled/resources';
import type { CachedState } from './types';

/**
 * Returns a copy of the cached document for `resource` when it is at most `maxAgeMs` old, and
 * undefined otherwise (other resources are never cached). The state's age counts from when it
 * was last confirmed current, which a live WebSocket's frames do. The info's age counts from
 * the push or poll that brought it. The copy keeps a flow that edits its message from changing
 * the cache.
 */
export function cachedDocument(
  resource: ResourceName,
  cached: CachedState,
  maxAgeMs: number,
  now = Date.now(),
): WledState | WledInfo | undefined {
  if (resource === 'state' && now - cached.confirmedAt <= maxAgeMs) {
    return structuredClone(cached.state);
  }
  const infoAt = cached.infoUpdatedAt;
  if (resource === 'info' && cached.info !== undefined && infoAt !== undefined) {
    return now - infoAt <= maxAgeMs ? structuredClone(cached.info) : undefined;
  }
  return undefined;
}
