/**
 * Colour values in the forms WLED's JSON API accepts for a segment's `col` slots.
 */

import { describeValue, invalidValue, isPlainObject, isWholeNumber } from './validation';

export const COLOR_FORMS_TEXT =
  'a hex string such as "ff0000" or "#ff0000" (8 digits add white last), or an array [r, g, b] or [r, g, b, w] of whole numbers from 0 to 255';

const HEX_COLOR = /^#?([0-9a-f]{6}|[0-9a-f]{8})$/i;

/** Returns the hex digits of a `RRGGBB`/`RRGGBBWW` string with or without `#`, else undefined. */
export function hexDigits(value: string): string | undefined {
  const match = HEX_COLOR.exec(value.trim());
  return match ? match[1].toLowerCase() : undefined;
}

export function isRgbArray(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    (value.length === 3 || value.length === 4) &&
    value.every((channel) => isWholeNumber(channel, 0, 255))
  );
}

/**
 * Checks one colour for the effect node: hex (with or without `#`) or `[r, g, b(, w)]`.
 * Returns hex strings without `#`, since WLED's parser expects bare digits.
 */
export function parseSimpleColor(value: unknown, path: string): string | number[] {
  if (typeof value === 'string') {
    const digits = hexDigits(value);
    if (digits !== undefined) {
      return digits;
    }
  } else if (isRgbArray(value)) {
    return [...value];
  }
  throw invalidValue('colour', value, path, COLOR_FORMS_TEXT);
}

/**
 * Checks one `col` slot of a state payload. Besides the simple forms, WLED accepts `[]` to
 * leave the slot unchanged and an integer (0.13+): 0 is black, above 0 a colour temperature
 * in Kelvin, and a negative number leaves the slot unchanged. It also accepts an object with
 * any of r, g, b, w (0.15+) and `"r"` for a random colour (16.x).
 */
export function parseColorSlot(value: unknown, path: string): unknown {
  if (Array.isArray(value) && value.length === 0) {
    return value;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value;
  }
  if (value === 'r') {
    return value;
  }
  if (isPlainObject(value)) {
    for (const [channel, level] of Object.entries(value)) {
      if (!['r', 'g', 'b', 'w'].includes(channel) || !isWholeNumber(level, 0, 255)) {
        throw invalidValue(
          'colour',
          value,
          path,
          `${COLOR_FORMS_TEXT}, or an object with r, g, b and w from 0 to 255 (found ${channel}: ${describeValue(level)})`,
        );
      }
    }
    return value;
  }
  if (typeof value === 'string' || isRgbArray(value)) {
    return parseSimpleColor(value, path);
  }
  throw invalidValue(
    'colour',
    value,
    path,
    `${COLOR_FORMS_TEXT}, [] to keep the slot, a colour temperature in Kelvin, or an object with r, g, b and w`,
  );
}

/** Checks a `col` array: up to three slots (primary, background, tertiary). */
export function parseColorSlots(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value) || value.length > 3) {
    throw invalidValue(
      'colour list',
      value,
      path,
      `an array of up to 3 colours, each ${COLOR_FORMS_TEXT}`,
    );
  }
  return value.map((slot, index) => parseColorSlot(slot, `${path}[${index}]`));
}
