/**
 * Value parsing as WLED's JSON handler does it (ArduinoJson 6 conversions plus WLED's own
 * `getVal`/`parseNumber` helpers in `wled00/util.cpp`). Each reader returns `undefined` when
 * the firmware would leave the field unchanged.
 */

export type RandomSource = () => number;

/** Integer in [min, max) like FastLED's `random8(min, max)`; max 0 means 255. */
export function randomByte(random: RandomSource, min: number, max: number): number {
  const upper = max === 0 ? 255 : max;
  if (upper <= min) return min;
  return min + Math.floor(random() * (upper - min));
}

/** C `atoi`: optional whitespace and sign, then leading digits; 0 when there are none. */
export function atoi(text: string): number {
  const match = /^\s*([+-]?\d+)/.exec(text);
  return match ? Number.parseInt(match[1], 10) : 0;
}

/** Truncates an integer to an unsigned byte as a C assignment to `uint8_t` does. */
function toByte(value: number): number {
  return ((value % 256) + 256) % 256;
}

/**
 * Applies one of WLED's number strings to `current`. `"r"` picks at random and `"~"`/`"~-"`
 * step by one with wrap-around. `"~N"`/`"~-N"` add N and clamp, or wrap with a `w` prefix.
 * When both limits are 0 (as for `ps`), `"A~B~"` cycles and `"A~Br"` picks within [A, B].
 * Any other string is read as a decimal number.
 */
export function parseNumberString(
  text: string,
  current: number,
  min: number,
  max: number,
  random: RandomSource,
): number {
  if (text === '') return current;
  if (text[0] === 'r') return randomByte(random, min, max);

  let rest = text;
  let wrap = false;
  if (rest[0] === 'w' && rest.length > 1) {
    rest = rest.slice(1);
    wrap = true;
  }

  if (rest[0] === '~') return stepNumber(rest, current, min, max, wrap);

  if (min === 0 && max === 0) {
    const ranged = parseRange(rest, current, random);
    if (ranged !== undefined) return ranged;
  }
  return toByte(atoi(rest));
}

function stepNumber(text: string, current: number, min: number, max: number, wrap: boolean) {
  let delta = atoi(text.slice(1));
  if (delta === 0) {
    // "~0" leaves the value alone, "~" and "~-" step by one and wrap at the limits.
    if (text[1] === '0') return current;
    if (text[1] === '-') return current - 1 < min ? max : Math.min(max, current - 1);
    return current + 1 > max ? min : Math.max(min, current + 1);
  }

  if (wrap && current === max && delta > 0) return min;
  if (wrap && current === min && delta < 0) return max;
  delta += current;
  return Math.min(max, Math.max(min, delta));
}

/** `"A~B~"`, `"A~B~-"` and `"A~Br"`: cycle or pick at random within [A, B]. */
function parseRange(text: string, current: number, random: RandomSource): number | undefined {
  const tilde = text.indexOf('~');
  if (tilde < 0) return undefined;

  const low = toByte(atoi(text));
  const afterTilde = text.slice(tilde + 1);
  const high = toByte(atoi(afterTilde));
  if (high <= 0) return undefined;

  const suffix = afterTilde.replace(/^\d+/, '');
  return parseNumberString(suffix, current, low, high, random);
}

/**
 * Reads a byte field the firmware parses with `getVal` (`bri`, `ps`, segment `fx`, `sx`,
 * `ix`, `pal`, `c1`-`c3`, segment `bri`). Integers above 255 become 0 (ArduinoJson's
 * out-of-range conversion), negative integers are ignored, strings of 1 to `maxStringLength`
 * characters go through `parseNumberString`, floats, booleans and null are ignored.
 */
export function readByteValue(
  value: unknown,
  current: number,
  min: number,
  max: number,
  random: RandomSource,
  maxStringLength = 12,
): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return undefined;
    // Values that do not fit an int are not `is<int>()` for ArduinoJson, so they are ignored.
    if (value > 0x7fffffff) return undefined;
    return value > 255 ? 0 : value;
  }

  if (typeof value === 'string') {
    if (value.length === 0 || value.length > maxStringLength) return undefined;
    return parseNumberString(value, current, min, max, random);
  }

  return undefined;
}

/**
 * Reads a plain integer field the way `root["key"] | current` does: a value of another JSON
 * type, a fraction or one outside the C type's range [min, max] leaves the field unchanged.
 */
export function readInteger(value: unknown, min: number, max: number): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
  if (value < min || value > max) return undefined;
  return value;
}

/**
 * Reads a boolean field: JSON `true`/`false`, or a string starting with `t` to toggle where
 * `toggle` is allowed (0.15 for most flags, older lines only for `on` and segment `on`/`frz`).
 */
export function readBoolean(
  value: unknown,
  current: boolean,
  toggle: boolean,
): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (toggle && typeof value === 'string' && value[0] === 't') return !current;
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
