/**
 * Change detection between two WLED state documents, as dot-separated paths (`on`, `bri`,
 * `seg.0.fx`, `nl.rem`), and the path patterns the state-changed node filters on.
 */

import type { WledState } from '../client/types';

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Lists the paths whose values differ between `previous` and `next`. Objects are compared key
 * by key. Segments are keyed by their `id` (by their position when they have none), so
 * `seg.1.fx` names segment 1 even when segment 0 was deleted. Other arrays (`col`, `i`) are
 * compared as whole values and reported at their own path. A key present on one side only is
 * reported at its path. The result is sorted so that equal changes give equal lists.
 */
export function changedPaths(previous: WledState, next: WledState): string[] {
  const paths: string[] = [];
  compareObjects(previous, next, '', paths);
  return paths.sort();
}

function compareObjects(
  previous: Record<string, Json>,
  next: Record<string, Json>,
  prefix: string,
  paths: string[],
): void {
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  for (const key of keys) {
    const path = prefix + key;
    const before = previous[key];
    const after = next[key];

    if (prefix === '' && key === 'seg' && Array.isArray(before) && Array.isArray(after)) {
      compareSegments(before, after, paths);
    } else if (isObject(before) && isObject(after)) {
      compareObjects(before, after, `${path}.`, paths);
    } else if (!sameValue(before, after)) {
      paths.push(path);
    }
  }
}

function compareSegments(previous: Json[], next: Json[], paths: string[]): void {
  const before = segmentsById(previous);
  const after = segmentsById(next);
  const ids = new Set([...before.keys(), ...after.keys()]);

  for (const id of ids) {
    const segmentBefore = before.get(id);
    const segmentAfter = after.get(id);
    if (isObject(segmentBefore) && isObject(segmentAfter)) {
      compareObjects(segmentBefore, segmentAfter, `seg.${id}.`, paths);
    } else if (!sameValue(segmentBefore, segmentAfter)) {
      paths.push(`seg.${id}`);
    }
  }
}

function segmentsById(segments: Json[]): Map<string, Json> {
  const byId = new Map<string, Json>();
  segments.forEach((segment, index) => {
    const id = isObject(segment) && typeof segment.id === 'number' ? segment.id : index;
    byId.set(String(id), segment);
  });
  return byId;
}

/** Deep equality of parsed JSON values; key order does not matter. */
export function sameValue(a: Json, b: Json): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameValue(a[key], b[key]))
    );
  }
  return false;
}

/**
 * Returns whether `pattern` selects a change at `path`. A pattern selects its own path and every
 * path below it (`seg.0` selects `seg.0.fx`), and `*` stands for any one path element
 * (`seg.*.fx` selects the effect of every segment).
 */
export function pathMatches(pattern: string, path: string): boolean {
  const expected = pattern.split('.');
  const actual = path.split('.');
  if (expected.length > actual.length) {
    return false;
  }
  return expected.every((element, index) => element === '*' || element === actual[index]);
}

/**
 * Parses the property list of the editor or `msg`: patterns separated by commas or white space.
 * Empty elements are dropped, so an empty text selects nothing and means "no filter".
 */
export function parsePathList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
