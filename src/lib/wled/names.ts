/**
 * Effect and palette name resolution against a device's own lists (`/json/eff`,
 * `/json/pal`). Ids differ between firmware versions (0.14 moved three effects), so names
 * are matched per device rather than hard-coded.
 */

import { invalidInput } from '../errors';
import { describeValue } from './validation';

export type NameKind = 'effect' | 'palette';

/** One selectable entry for the editor's dropdowns. */
export interface NamedId {
  id: number;
  name: string;
}

const MAX_SUGGESTIONS = 3;

// Custom palettes are addressed from 255 downwards (255 is the first) and are missing from
// /json/pal, which lists only the built-in palettes (0.13 to 16.x).
const FIRST_CUSTOM_PALETTE_ID = 246;

/** Tests for a placeholder entry: "RSVD" marks a removed effect (0.14+) and "-" an unused slot. */
export function isPlaceholderName(name: string): boolean {
  const trimmed = name.trim();
  return trimmed === 'RSVD' || trimmed === '-' || trimmed === '';
}

/** Lists the selectable entries in id order, without placeholders. */
export function listNames(names: string[]): NamedId[] {
  const entries: NamedId[] = [];
  names.forEach((name, id) => {
    if (!isPlaceholderName(name)) {
      entries.push({ id, name });
    }
  });
  return entries;
}

/**
 * Resolves an effect or palette, given as an id or a name, to its id on the device.
 *
 * Ids (numbers or numeric strings) pass when they are in the device's list and not a
 * placeholder; palette ids 246-255 (custom palettes) always pass. With an empty list, any
 * id from 0 to 255 passes, since the list has not been loaded. Names match case-insensitively
 * after trimming, and palette names also match without WLED's "* " prefix ("Color 1" finds
 * "* Color 1"). An unknown name throws an `invalid-input` WledError that suggests up to three
 * similar names on the device.
 */
export function resolveName(kind: NameKind, value: string | number, names: string[]): number {
  if (typeof value === 'number') {
    return resolveId(kind, value, names);
  }
  if (typeof value !== 'string') {
    throw invalidInput(`input.invalid-${kind}`, { value: describeValue(value) });
  }

  const query = normalize(value);
  if (query === '') {
    throw invalidInput(`input.missing-${kind}`);
  }
  if (/^[0-9]+$/.test(query)) {
    return resolveId(kind, Number(query), names);
  }

  const entries = listNames(names);
  const exact = entries.find((entry) => normalize(entry.name) === query);
  if (exact) {
    return exact.id;
  }
  const withoutPrefix = entries.find(
    (entry) => stripPalettePrefix(normalize(entry.name)) === query,
  );
  if (withoutPrefix) {
    return withoutPrefix.id;
  }

  throw unknownName(kind, value, entries);
}

function resolveId(kind: NameKind, id: number, names: string[]): number {
  if (!Number.isInteger(id) || id < 0 || id > 255) {
    throw invalidInput(`input.invalid-${kind}-id`, { id: describeValue(id) });
  }
  if (kind === 'palette' && id >= FIRST_CUSTOM_PALETTE_ID) {
    return id;
  }
  if (names.length === 0) {
    return id;
  }
  if (id >= names.length) {
    throw invalidInput(`input.unknown-${kind}-id`, { id, max: names.length - 1 });
  }
  if (isPlaceholderName(names[id])) {
    throw invalidInput(`input.unused-${kind}-id`, { id, listed: JSON.stringify(names[id]) });
  }
  return id;
}

function unknownName(kind: NameKind, value: string, entries: NamedId[]) {
  const suggestions = suggestNames(
    value,
    entries.map((entry) => entry.name),
  );
  if (suggestions.length === 0) {
    return invalidInput(`input.unknown-${kind}-name`, {
      name: JSON.stringify(value),
      count: entries.length,
    });
  }
  const quoted = suggestions.map((name) => JSON.stringify(name)).join(', ');
  return invalidInput(`input.unknown-${kind}-suggest`, {
    name: JSON.stringify(value),
    suggestions: quoted,
  });
}

/**
 * Returns up to three names similar to `value`, best first. A name scores by its edit
 * distance to the value, or by that of its beginning, so "rainbw" finds "Rainbow Runner".
 * Names that contain the value score as close matches, and names too far away are left out.
 */
export function suggestNames(value: string, names: string[]): string[] {
  const query = normalize(value);
  if (query === '') {
    return [];
  }

  // Allow roughly one typo per three characters, and at least two.
  const maxScore = Math.max(2, Math.ceil(query.length / 3));

  const scored: Array<{ name: string; score: number; order: number }> = [];
  names.forEach((name, order) => {
    if (isPlaceholderName(name)) {
      return;
    }
    const score = similarityScore(query, stripPalettePrefix(normalize(name)));
    if (score <= maxScore) {
      scored.push({ name, score, order });
    }
  });

  scored.sort((a, b) => a.score - b.score || a.order - b.order);
  return scored.slice(0, MAX_SUGGESTIONS).map((entry) => entry.name);
}

/** Lower is closer: 0 identical, a fraction for contained or prefix-like names. */
function similarityScore(query: string, candidate: string): number {
  const whole = editDistance(query, candidate);
  if (candidate.includes(query)) {
    // Contained: closer than any typo, and shorter names first.
    return Math.min(whole, 0.5 + (candidate.length - query.length) / 100);
  }
  // The start of a longer name, e.g. "rainbw" against "Rainbow Runner".
  const start = candidate.slice(0, query.length);
  const prefix = editDistance(query, start) + 0.5;
  return Math.min(whole, prefix);
}

/** Levenshtein distance (insertions, deletions and substitutions each cost 1). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, previous[j] + 1, current[j - 1] + 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function normalize(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

function stripPalettePrefix(name: string): string {
  return name.startsWith('* ') ? name.slice(2) : name;
}
