/**
 * Value checks shared by the payload parsers. Each check throws an `invalid-input`
 * WledError whose message names the field, the value, where it was found and the accepted
 * forms, so that the user can fix the message without reading WLED's documentation.
 */

import { invalidInput, WledError } from '../errors';
import type { MessageParam } from '../messages';

/** Checks one value found at `path` (e.g. `msg.payload.seg[0].fx`) and returns the value to send. */
export type ValueCheck = (value: unknown, path: string) => unknown;

const MAX_SHOWN_LENGTH = 60;

/** Formats a value for an error message: strings quoted, objects as shortened JSON. */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }

  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Circular structures and other values JSON cannot show.
    text = Object.prototype.toString.call(value);
  }
  if (text.length <= MAX_SHOWN_LENGTH) {
    return text;
  }
  // A cut string keeps its closing quote, so the value still reads as one.
  const cut = `${text.slice(0, MAX_SHOWN_LENGTH)}...`;
  return text.startsWith('"') ? `${cut}"` : cut;
}

/** Builds the error for one rejected value, e.g. `Invalid brightness 300 in msg.payload.bri: use ...`. */
export function invalidValue(
  label: MessageParam,
  value: unknown,
  path: MessageParam,
  accepted: MessageParam,
): WledError {
  return invalidInput('input.invalid-value', {
    label,
    value: describeValue(value),
    path,
    accepted,
  });
}

/**
 * Returns whether `value` is an object literal or `Object.create(null)`. Objects built in a
 * Node-RED function node come from another V8 context with its own `Object.prototype`, so the
 * check accepts any prototype that is itself a root prototype, not only this context's.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) {
    return true;
  }
  return (
    Object.getPrototypeOf(prototype) === null &&
    Object.prototype.toString.call(value) === '[object Object]'
  );
}

export function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function wholeNumber(label: string, min: number, max: number, unit = ''): ValueCheck {
  const accepted = `a whole number from ${min} to ${max}${unit}`;
  return (value, path) => {
    if (!isWholeNumber(value, min, max)) {
      throw invalidValue(label, value, path, accepted);
    }
    return value;
  };
}

export function boolean(label: string): ValueCheck {
  return (value, path) => {
    if (typeof value !== 'boolean') {
      throw invalidValue(label, value, path, 'true or false');
    }
    return value;
  };
}

/**
 * Checks a switch that WLED can also toggle with `"t"`. WLED ignores other values such as 1 or
 * "true", so they are rejected here rather than silently doing nothing.
 */
export function toggleable(label: string): ValueCheck {
  return (value, path) => {
    if (typeof value !== 'boolean' && value !== 't') {
      throw invalidValue(label, value, path, 'true, false or "t" to toggle');
    }
    return value;
  };
}

export function text(label: string, maxLength?: number): ValueCheck {
  return (value, path) => {
    if (typeof value !== 'string' || (maxLength !== undefined && value.length > maxLength)) {
      const limit = maxLength === undefined ? '' : ` of at most ${maxLength} characters`;
      throw invalidValue(label, value, path, `a string${limit}`);
    }
    return value;
  };
}

export function object(label: string, fields: Record<string, ValueCheck>): ValueCheck {
  return (value, path) => {
    if (!isPlainObject(value)) {
      throw invalidValue(label, value, path, 'an object');
    }
    return checkFields(value, fields, path);
  };
}

/** Checks the known fields of an object and copies the others unchanged. */
export function checkFields(
  source: Record<string, unknown>,
  fields: Record<string, ValueCheck>,
  path: string,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const check = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
    result[key] = check ? check(value, `${path}.${key}`) : value;
  }
  return result;
}

// The string forms WLED's getVal() understands (0.13 to 16.x): "r" random, "~"/"~-" step
// up/down, "~N"/"~-N" step by N with clamping, "w~N"/"w~-N" with wrap-around, "A~B~" and
// "A~B~-" cycle within A..B, "A~Br" random within A..B.
const RELATIVE_FORM = /^(r|w?~-?([0-9]{1,3})?|[0-9]{1,3}~[0-9]{1,3}(~-?|r))$/;

export const RELATIVE_FORMS_TEXT =
  '"~" or "~-" to step, "~N", "~-N" or "w~N" to change by N, "r" for random';

/**
 * Checks a byte field that WLED reads with getVal(): a whole number in range, a string holding
 * one, or one of the relative string forms. WLED itself turns numbers above 255 into 0 and
 * ignores negative numbers and fractions, so those are rejected.
 */
export function relativeByte(label: string, min: number, max: number, hint = ''): ValueCheck {
  const accepted = `a whole number from ${min} to ${max}, or ${RELATIVE_FORMS_TEXT}${hint}`;
  return (value, path) => {
    if (isWholeNumber(value, min, max)) {
      return value;
    }
    if (typeof value === 'string') {
      if (/^[0-9]{1,3}$/.test(value) && isWholeNumber(Number(value), min, max)) {
        return value;
      }
      if (RELATIVE_FORM.test(value)) {
        return value;
      }
    }
    throw invalidValue(label, value, path, accepted);
  };
}
