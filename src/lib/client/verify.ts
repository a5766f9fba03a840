/**
 * Comparison of two state documents on the fields a patch sets, used to tell whether a write
 * that is not safe to repeat was applied before its connection failed.
 */

import type { WledState } from './types';

/** Keys that are instructions for the request itself and never show in the state. */
const REQUEST_ONLY = new Set(['v', 'tt', 'nn', 'time']);

/** Returns the fields set by `patch` whose values differ between `before` and `after`, as
 *  paths such as `on` or `seg[0].fx`. */
export function changedFields(patch: WledState, before: WledState, after: WledState): string[] {
  const changed: string[] = [];

  for (const key of Object.keys(patch)) {
    if (REQUEST_ONLY.has(key)) {
      continue;
    }
    if (key === 'seg') {
      changed.push(...changedSegmentFields(patch.seg, before.seg, after.seg));
      continue;
    }
    if (!sameJson(before[key], after[key])) {
      changed.push(key);
    }
  }
  return changed;
}

function changedSegmentFields(patchSeg: unknown, beforeSeg: unknown, afterSeg: unknown): string[] {
  const entries = Array.isArray(patchSeg) ? patchSeg : [patchSeg];
  const beforeList = Array.isArray(beforeSeg) ? beforeSeg : [];
  const afterList = Array.isArray(afterSeg) ? afterSeg : [];
  const changed: string[] = [];

  entries.forEach((entry, position) => {
    if (typeof entry !== 'object' || entry === null) {
      return;
    }
    const fields = entry as Record<string, unknown>;
    // Without an id, an object applies to the selected segments and an array element to the
    // segment at its position; segment 0 represents the selection.
    const id = typeof fields.id === 'number' ? fields.id : Array.isArray(patchSeg) ? position : 0;
    const before = findSegment(beforeList, id);
    const after = findSegment(afterList, id);

    for (const field of Object.keys(fields)) {
      if (field === 'id') {
        continue;
      }
      if (!sameJson(before?.[field], after?.[field])) {
        changed.push(`seg[${id}].${field}`);
      }
    }
  });
  return changed;
}

function findSegment(list: unknown[], id: number): Record<string, unknown> | undefined {
  const found = list.find(
    (segment) =>
      typeof segment === 'object' && segment !== null && (segment as { id?: unknown }).id === id,
  );
  return found as Record<string, unknown> | undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
