/**
 * Input handling for the effect node: the editor settings merged with `msg.payload`
 * overrides, checked before anything is sent, and the state patch built from them.
 */

import { invalidInput } from '../errors';
import { COLOR_FORMS_TEXT, parseSimpleColor } from './colors';
import { resolveName } from './names';
import { describeValue, invalidValue, isPlainObject, isWholeNumber } from './validation';

/** Settings of the effect node. Every field is optional, and the device keeps its value for unset fields. */
export interface EffectSettings {
  /** Effect name or id. */
  effect?: string | number;
  /** Effect speed, 0-255 (WLED `sx`). */
  speed?: number;
  /** Effect intensity, 0-255 (WLED `ix`). */
  intensity?: number;
  /** Palette name or id. */
  palette?: string | number;
  /** Up to three colours (primary, background, tertiary): hex without `#`, or [r, g, b(, w)]. */
  colors?: Array<string | number[]>;
  /** Segment ids; empty or unset means the selected segments (see buildEffectPatch). */
  segments?: number[];
}

export interface NameLists {
  effects: string[];
  palettes: string[];
}

/** Highest effect id: WLED stores `fx` in 8 bits. */
const MAX_EFFECT_ID = 255;

/** Smallest number taken as an inject node's timestamp: milliseconds since 1970, here 2001. */
const MIN_TIMESTAMP_MS = 1e12;

/** Returns whether a number payload is a timestamp (an inject node's default) to ignore. */
function isTimestamp(value: number): boolean {
  return Number.isInteger(value) && value >= MIN_TIMESTAMP_MS;
}

const PAYLOAD_FIELDS = ['effect', 'speed', 'intensity', 'palette', 'colors', 'segment'];

/**
 * Merges the node's editor settings with the overrides in `msg.payload` and checks both.
 *
 * `payload` may be a plain object with any of effect, speed, intensity, palette, colors and
 * segment (a number or an array of numbers). A non-empty string names an effect or gives
 * its id, and so does a whole number from 0 to 255 (WLED's effect ids are 8-bit). Undefined,
 * null, an empty string, a boolean and an inject node's timestamp carry no settings, and then
 * the editor settings apply alone; any other number is rejected. Empty editor fields (`""`,
 * null, undefined) count as unset, and the editor's numeric fields may be numeric strings, as
 * Node-RED stores them.
 */
export function parseEffectInput(config: EffectSettings, payload: unknown): EffectSettings {
  const settings = parseSettings(
    config as Record<string, unknown>,
    'the node settings',
    'segments',
  );

  if (typeof payload === 'string' && payload.trim() !== '') {
    settings.effect = checkNameOrId('effect', payload.trim(), 'msg.payload');
  } else if (isWholeNumber(payload, 0, MAX_EFFECT_ID)) {
    settings.effect = payload;
  } else if (typeof payload === 'number' && !isTimestamp(payload)) {
    throw invalidInput('input.invalid-effect-number', { value: describeValue(payload) });
  } else if (isPlainObject(payload)) {
    const unknown = Object.keys(payload).filter((key) => !PAYLOAD_FIELDS.includes(key));
    if (unknown.length > 0) {
      throw invalidInput('input.unknown-effect-field', {
        fields: unknown.map((key) => JSON.stringify(key)).join(', '),
        known: PAYLOAD_FIELDS.join(', '),
      });
    }
    Object.assign(settings, parseSettings(payload, 'msg.payload', 'segment'));
  } else if (Array.isArray(payload)) {
    throw invalidInput('input.invalid-effect-payload', {
      value: describeValue(payload),
      known: PAYLOAD_FIELDS.join(', '),
    });
  }

  const hasSetting =
    settings.effect !== undefined ||
    settings.speed !== undefined ||
    settings.intensity !== undefined ||
    settings.palette !== undefined ||
    (settings.colors !== undefined && settings.colors.length > 0);
  if (!hasSetting) {
    throw invalidInput('input.nothing-to-set');
  }
  return settings;
}

/** Checks one source of settings; `segmentKey` is `segments` in the editor, `segment` in msg.payload. */
function parseSettings(
  source: Record<string, unknown>,
  where: string,
  segmentKey: 'segments' | 'segment',
): EffectSettings {
  const fromEditor = where === 'the node settings';
  const settings: EffectSettings = {};
  const pathOf = (key: string) => (fromEditor ? `the node's ${key} setting` : `${where}.${key}`);

  if (isSet(source.effect)) {
    settings.effect = checkNameOrId('effect', source.effect, pathOf('effect'));
  }
  if (isSet(source.palette)) {
    settings.palette = checkNameOrId('palette', source.palette, pathOf('palette'));
  }
  if (isSet(source.speed)) {
    settings.speed = checkByte('speed', source.speed, pathOf('speed'), fromEditor);
  }
  if (isSet(source.intensity)) {
    settings.intensity = checkByte('intensity', source.intensity, pathOf('intensity'), fromEditor);
  }
  if (isSet(source.colors)) {
    settings.colors = checkColors(source.colors, pathOf('colors'));
  }
  if (isSet(source[segmentKey])) {
    settings.segments = checkSegments(source[segmentKey], pathOf(segmentKey), fromEditor);
  }
  return settings;
}

function isSet(value: unknown): boolean {
  return (
    value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '')
  );
}

function checkNameOrId(label: string, value: unknown, path: string): string | number {
  if (isWholeNumber(value, 0, 255)) {
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    return value.trim();
  }
  throw invalidValue(label, value, path, `${withArticle(label)} name or an id from 0 to 255`);
}

/** "an effect", "a palette". */
function withArticle(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function checkByte(
  label: string,
  value: unknown,
  path: string,
  allowNumericString: boolean,
): number {
  const number =
    allowNumericString && typeof value === 'string' && /^\s*[0-9]+\s*$/.test(value)
      ? Number(value)
      : value;
  if (!isWholeNumber(number, 0, 255)) {
    throw invalidValue(label, value, path, 'a whole number from 0 to 255');
  }
  return number;
}

function checkColors(value: unknown, path: string): Array<string | number[]> {
  // A single colour is accepted on its own, so {"colors": "#ff0000"} sets the primary colour.
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length > 3 || isSingleRgb(list)) {
    throw invalidValue(
      'colour list',
      value,
      path,
      `an array of up to 3 colours, each ${COLOR_FORMS_TEXT}, e.g. ["#ff0000", [0, 0, 255]]`,
    );
  }
  return list.map((color, index) => parseSimpleColor(color, `${path}[${index}]`));
}

/** `[255, 0, 0]` given as the whole list is one colour written without the outer array. */
function isSingleRgb(list: unknown[]): boolean {
  return list.length > 0 && list.every((item) => typeof item === 'number');
}

function checkSegments(value: unknown, path: string, allowText: boolean): number[] {
  let list: unknown[];
  if (Array.isArray(value)) {
    list = value;
  } else if (allowText && typeof value === 'string') {
    // The editor stores segment ids as text such as "0, 2".
    list = value
      .split(',')
      .map((part) => (/^\s*[0-9]+\s*$/.test(part) ? Number(part) : part.trim()));
  } else {
    list = [value];
  }

  const ids = list.map((id) => {
    if (!isWholeNumber(id, 0, 255)) {
      throw invalidValue(
        'segment id',
        id,
        path,
        'a segment id from 0 to 255, or an array of them such as [0, 2]',
      );
    }
    return id;
  });
  return [...new Set(ids)];
}

/**
 * Builds the state patch for checked settings, resolving effect and palette names against
 * the device's lists.
 *
 * With segment ids the patch is `{seg: [{id, ...}, ...]}`. Without them it is a single
 * object without an id, `{seg: {...}}`, which WLED applies to every selected segment (0.14+;
 * 0.13 falls back to the main segment when none is selected). That is the set the WLED UI
 * changes, and with one segment, the default, it is the main segment. An array entry
 * without an id would instead address segment 0, whatever the main segment is.
 */
export function buildEffectPatch(
  settings: EffectSettings,
  lists: NameLists,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};

  if (settings.effect !== undefined) {
    fields.fx = resolveName('effect', settings.effect, lists.effects);
  }
  if (settings.speed !== undefined) {
    fields.sx = settings.speed;
  }
  if (settings.intensity !== undefined) {
    fields.ix = settings.intensity;
  }
  if (settings.palette !== undefined) {
    fields.pal = resolveName('palette', settings.palette, lists.palettes);
  }
  if (settings.colors !== undefined && settings.colors.length > 0) {
    fields.col = settings.colors.map((color) => (Array.isArray(color) ? [...color] : color));
  }

  if (settings.segments === undefined || settings.segments.length === 0) {
    return { seg: fields };
  }
  return { seg: settings.segments.map((id) => ({ id, ...fields })) };
}

/**
 * Returns the requested segment ids that the device's new state does not contain. WLED
 * ignores a segment id it does not have, so these are ids that the write did not change.
 */
export function missingSegments(settings: EffectSettings, state: unknown): number[] {
  if (settings.segments === undefined || !isPlainObject(state) || !Array.isArray(state.seg)) {
    return [];
  }
  const existing = new Set(
    state.seg.map((segment: unknown) => (isPlainObject(segment) ? segment.id : undefined)),
  );
  return settings.segments.filter((id) => !existing.has(id));
}
