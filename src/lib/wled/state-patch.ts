/**
 * Classification and merging of WLED state patches (the body of `POST /json/state`).
 *
 * A patch is *replayable* when sending it twice leaves the device as sending it once would,
 * as with absolute values such as `{"on":true,"bri":128}`. It is *mergeable* when it can also
 * be folded into a neighbouring queued patch without changing the device's final state.
 * Patches that are not mergeable are barriers in the device's request lane.
 */

export interface PatchClassification {
  /** Safe to send again after a failure that may have reached the device. */
  replayable: boolean;
  /** Safe to fold into (or receive) another queued patch, latest value winning. */
  mergeable: boolean;
  /** Reasons, in plain words, that the patch is not replayable or not mergeable (empty when it is both). */
  reasons: string[];
}

type Patch = Record<string, unknown>;

/** Boolean fields that WLED 0.15 toggles when given a string starting with "t" (0.13/0.14:
 *  `on`, seg `on` and `frz` only). */
const TOGGLE_FIELDS = new Set([
  'on',
  'frz',
  'sel',
  'rev',
  'mi',
  'rY',
  'mY',
  'tp',
  'o1',
  'o2',
  'o3',
  'send',
]);

/** Top-level keys that trigger an action rather than set a value: repeating them repeats the
 *  action (reboot, flash write, preset delete, playlist step, custom palette removal). */
const ACTION_KEYS = new Set(['rb', 'psave', 'pdel', 'np', 'rmcpal', 'win', 'pd']);

/** Keys whose effect is applied asynchronously by the firmware (presets load in the next loop
 *  and override what was set in the same request), so they are never merged with other keys. */
const DEFERRED_KEYS = new Set(['ps', 'playlist', 'pl', 'ledmap']);

/** String fields that carry names or labels, where "~" and "r" are ordinary characters. */
const TEXT_FIELDS = new Set(['n', 'ql']);

/**
 * Classifies a state patch. Toggles (`"on":"t"`), relative values (`"~"`), random values
 * (`"r"`) and preset cycling strings (`"ps":"1~5~"`) anywhere, segment fields included, make
 * it neither replayable nor mergeable, and so do action keys (`rb`, `psave`, ...). Per-LED
 * writes (`seg.i`) and preset or playlist loads are replayable but not mergeable.
 */
export function classifyPatch(patch: Patch): PatchClassification {
  const reasons: string[] = [];
  let replayable = true;
  let mergeable = true;

  const notReplayable = (reason: string): void => {
    replayable = false;
    mergeable = false;
    reasons.push(reason);
  };
  const notMergeable = (reason: string): void => {
    mergeable = false;
    reasons.push(reason);
  };

  for (const [key, value] of Object.entries(patch)) {
    if (ACTION_KEYS.has(key)) {
      notReplayable(`"${key}" is an action`);
      continue;
    }
    if (DEFERRED_KEYS.has(key)) {
      notMergeable(`"${key}" is applied after the request by the firmware`);
    }
    if (key === 'seg') {
      inspectSegments(value, notReplayable, notMergeable);
      continue;
    }
    inspectValue(key, value, key, notReplayable);
  }

  return { replayable, mergeable, reasons };
}

function inspectSegments(
  seg: unknown,
  notReplayable: (reason: string) => void,
  notMergeable: (reason: string) => void,
): void {
  const entries = Array.isArray(seg) ? seg : [seg];

  for (const entry of entries) {
    if (!isPlainObject(entry)) {
      continue;
    }
    for (const [field, value] of Object.entries(entry)) {
      if (field === 'i') {
        // Two per-LED writes address different LEDs, so the later one must not replace the
        // earlier; each one alone is absolute.
        notMergeable('"seg.i" sets individual LEDs');
        continue;
      }
      inspectValue(field, value, `seg.${field}`, notReplayable);
    }
  }
}

/** Walks one field (recursing into objects such as `nl`, `udpn` and arrays such as `col`). */
function inspectValue(
  field: string,
  value: unknown,
  where: string,
  notReplayable: (reason: string) => void,
): void {
  if (typeof value === 'string') {
    if (TEXT_FIELDS.has(field)) {
      return;
    }
    if (TOGGLE_FIELDS.has(field)) {
      notReplayable(`"${where}" is a toggle ("${value}")`);
      return;
    }
    if (value.includes('~')) {
      notReplayable(`"${where}" is relative or cycling ("${value}")`);
      return;
    }
    if (value === 'r' || value === 'R') {
      notReplayable(`"${where}" is random ("${value}")`);
    }
    return;
  }

  if (Array.isArray(value)) {
    for (const item of value) {
      inspectValue(field, item, where, notReplayable);
    }
    return;
  }

  if (isPlainObject(value)) {
    for (const [inner, innerValue] of Object.entries(value)) {
      inspectValue(inner, innerValue, `${where}.${inner}`, notReplayable);
    }
  }
}

/**
 * Merges `later` into `earlier` as if both had been applied in order, for two mergeable
 * patches. Top-level values are replaced by the later one, nested objects (`nl`, `udpn`) are
 * merged key by key, `seg` entries are merged by segment, and `col` slots by position (an
 * empty slot `[]` keeps the earlier colour).
 *
 * Returns `undefined` when the two cannot be expressed as one request: a `seg` object
 * without `id` (which WLED applies to all selected segments) mixed with entries that name
 * segments. The caller then sends them separately.
 */
export function mergePatches(earlier: Patch, later: Patch): Patch | undefined {
  const merged: Patch = { ...earlier };

  for (const [key, value] of Object.entries(later)) {
    if (key === 'seg' && 'seg' in earlier) {
      const seg = mergeSegments(earlier.seg, value);
      if (seg === undefined) {
        return undefined;
      }
      merged.seg = seg;
      continue;
    }
    merged[key] = mergeValue(earlier[key], value);
  }

  return merged;
}

function mergeValue(earlier: unknown, later: unknown): unknown {
  if (isPlainObject(earlier) && isPlainObject(later)) {
    const merged: Patch = { ...earlier };
    for (const [key, value] of Object.entries(later)) {
      merged[key] = mergeValue(earlier[key], value);
    }
    return merged;
  }
  return later;
}

/** Key of a segment entry by where WLED applies it: `id:N` for an entry with `id` N or an
 *  array element at position N, `selected` for an object without `id`. */
type SegmentKey = string;

function segmentEntries(seg: unknown): Array<[SegmentKey, Patch]> | undefined {
  if (isPlainObject(seg)) {
    const key = typeof seg.id === 'number' ? `id:${seg.id}` : 'selected';
    return [[key, seg]];
  }
  if (!Array.isArray(seg)) {
    return undefined;
  }

  const entries: Array<[SegmentKey, Patch]> = [];
  seg.forEach((entry, index) => {
    if (!isPlainObject(entry)) {
      return;
    }
    // WLED applies an array element without `id` to the segment at its position.
    const id = typeof entry.id === 'number' ? entry.id : index;
    entries.push([`id:${id}`, entry]);
  });
  return entries;
}

function mergeSegments(earlier: unknown, later: unknown): unknown {
  const first = segmentEntries(earlier);
  const second = segmentEntries(later);
  if (first === undefined || second === undefined) {
    return undefined;
  }

  const byKey = new Map<SegmentKey, Patch>(first);
  for (const [key, entry] of second) {
    const previous = byKey.get(key);
    byKey.set(key, previous === undefined ? entry : mergeSegmentEntry(previous, entry));
  }

  const hasSelected = byKey.has('selected');
  if (hasSelected && byKey.size > 1) {
    return undefined;
  }
  if (hasSelected) {
    return byKey.get('selected');
  }

  // Every entry carries its id, so the array order does not matter to WLED.
  return [...byKey.entries()].map(([key, entry]) => ({
    ...entry,
    id: Number(key.slice('id:'.length)),
  }));
}

function mergeSegmentEntry(earlier: Patch, later: Patch): Patch {
  const merged: Patch = { ...earlier };
  for (const [field, value] of Object.entries(later)) {
    if (field === 'col' && Array.isArray(earlier.col) && Array.isArray(value)) {
      merged.col = mergeColourSlots(earlier.col, value);
      continue;
    }
    merged[field] = mergeValue(earlier[field], value);
  }
  return merged;
}

/** Merges two `col` arrays slot by slot; a missing slot or `[]` in the later one keeps the
 *  earlier colour, as WLED skips those slots. */
function mergeColourSlots(earlier: unknown[], later: unknown[]): unknown[] {
  const length = Math.max(earlier.length, later.length);
  const merged: unknown[] = [];
  for (let slot = 0; slot < length; slot++) {
    const next = later[slot];
    const skipped = next === undefined || (Array.isArray(next) && next.length === 0);
    merged.push(skipped ? (earlier[slot] ?? []) : next);
  }
  return merged;
}

function isPlainObject(value: unknown): value is Patch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns whether WLED applies part of the patch only after it has responded. Presets (`ps`)
 * and playlists (`playlist`) load in the firmware's next loop, so the state in the verbose
 * response is still the one before them (WLED 0.13 to 16.x).
 */
export function appliesAfterAnswer(patch: Patch): boolean {
  return (patch.ps !== undefined && patch.ps !== -1) || patch.playlist !== undefined;
}
