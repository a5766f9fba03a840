/**
 * Parsing and validation of the set-state node's `msg.payload`, before anything is sent.
 *
 * Ranges follow WLED's JSON API (0.13 to 16.x). Where WLED would silently ignore a value
 * (a wrong type, a negative number) or misread it (brightness above 255 becomes 0, which
 * turns the light off), the value is rejected with a message that names it.
 */

import { invalidInput } from '../errors';
import { parseColorSlots } from './colors';
import {
  boolean,
  checkFields,
  describeValue,
  invalidValue,
  isPlainObject,
  isWholeNumber,
  object,
  relativeByte,
  RELATIVE_FORMS_TEXT,
  text,
  toggleable,
  ValueCheck,
  wholeNumber,
} from './validation';

const PAYLOAD_PATH = 'msg.payload';

export const SHORTHAND_FORMS_TEXT =
  'true or false, "on", "off" or "toggle", a brightness from 0 to 255, or a WLED state object such as {"on": true, "bri": 128}';

/** Preset ids are 1 to 250; -1 means "no preset" and is harmless to send. */
const presetId = (label: string, min: number): ValueCheck => wholeNumber(label, min, 250);

/** `ps` also takes WLED's cycle and random forms, e.g. "1~5~" or "4~10r". */
const presetSelection: ValueCheck = (value, path) => {
  if (isWholeNumber(value, -1, 250)) {
    return value;
  }
  try {
    return relativeByte('preset', 1, 250)(value, path);
  } catch {
    throw invalidValue(
      'preset',
      value,
      path,
      `a preset id from 1 to 250, -1 for none, "A~B~" to cycle through presets A to B, "A~Br" for a random one, or ${RELATIVE_FORMS_TEXT}`,
    );
  }
};

const numberOrList =
  (label: string, min: number, max: number): ValueCheck =>
  (value, path) => {
    if (isWholeNumber(value, min, max)) {
      return value;
    }
    if (Array.isArray(value) && value.every((item) => isWholeNumber(item, min, max))) {
      return value;
    }
    throw invalidValue(
      label,
      value,
      path,
      `a whole number from ${min} to ${max} or an array of them`,
    );
  };

const playlistPresets: ValueCheck = (value, path) => {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidValue(
      'playlist presets',
      value,
      path,
      'a non-empty array of preset ids from 1 to 250',
    );
  }
  value.forEach((id, index) => presetId('playlist preset', 1)(id, `${path}[${index}]`));
  return value;
};

/** Individual LEDs: indexes and ranges as numbers, colours as arrays or hex strings. */
const individualLeds: ValueCheck = (value, path) => {
  if (!Array.isArray(value)) {
    throw invalidValue('individual LED list', value, path, 'an array of LED indexes and colours');
  }
  value.forEach((item, index) => {
    const valid =
      isWholeNumber(item, 0, 65535) ||
      (typeof item === 'string' && /^[0-9a-f]{6}([0-9a-f]{2})?$/i.test(item)) ||
      (Array.isArray(item) &&
        item.length <= 4 &&
        item.every((channel) => isWholeNumber(channel, 0, 255)));
    if (!valid) {
      throw invalidValue(
        'individual LED entry',
        item,
        `${path}[${index}]`,
        'an LED index from 0 to 65535, a hex colour "RRGGBB" or an array [r, g, b(, w)]',
      );
    }
  });
  return value;
};

const colorTemperature: ValueCheck = (value, path) => {
  if (isWholeNumber(value, 0, 255) || isWholeNumber(value, 1900, 10091)) {
    return value;
  }
  throw invalidValue(
    'colour temperature',
    value,
    path,
    'a whole number from 0 (warm) to 255 (cold), or from 1900 to 10091 Kelvin',
  );
};

const SEGMENT_FIELDS: Record<string, ValueCheck> = {
  id: wholeNumber('segment id', 0, 255),
  start: wholeNumber('segment start', 0, 65535),
  stop: wholeNumber('segment stop', 0, 65535),
  len: wholeNumber('segment length', 0, 65535),
  startY: wholeNumber('segment start row', 0, 65535),
  stopY: wholeNumber('segment stop row', 0, 65535),
  grp: wholeNumber('grouping', 1, 255),
  spc: wholeNumber('spacing', 0, 255),
  of: wholeNumber('offset', -32768, 32767),
  on: toggleable('segment power'),
  frz: toggleable('freeze'),
  bri: relativeByte('segment brightness', 0, 255),
  cct: colorTemperature,
  set: wholeNumber('segment set', 0, 3),
  n: text('segment name', 64),
  col: parseColorSlots,
  fx: relativeByte('effect id', 0, 255, '; to choose an effect by name, use the effect node'),
  sx: relativeByte('speed', 0, 255),
  ix: relativeByte('intensity', 0, 255),
  pal: relativeByte('palette id', 0, 255, '; to choose a palette by name, use the effect node'),
  c1: relativeByte('custom 1', 0, 255),
  c2: relativeByte('custom 2', 0, 255),
  // WLED clamps c3 to 0-31.
  c3: relativeByte('custom 3', 0, 31),
  // WLED 0.15 also toggles these with "t"; 0.13 and 0.14 toggle only on and frz and ignore "t" here.
  sel: toggleable('selected'),
  rev: toggleable('reverse'),
  mi: toggleable('mirror'),
  rY: toggleable('reverse rows'),
  mY: toggleable('mirror rows'),
  tp: toggleable('transpose'),
  o1: toggleable('option 1'),
  o2: toggleable('option 2'),
  o3: toggleable('option 3'),
  si: wholeNumber('sound simulation', 0, 3),
  m12: wholeNumber('1D to 2D mapping', 0, 7),
  fxdef: boolean('load effect defaults'),
  rpt: boolean('repeat segment'),
  bm: wholeNumber('blend mode', 0, 255),
  i: individualLeds,
};

/** `seg` is one object (applied to the selected segments) or an array (one entry per segment). */
const segments: ValueCheck = (value, path) => {
  if (isPlainObject(value)) {
    return checkFields(value, SEGMENT_FIELDS, path);
  }
  if (Array.isArray(value)) {
    return value.map((entry, index) => {
      const entryPath = `${path}[${index}]`;
      if (!isPlainObject(entry)) {
        throw invalidValue(
          'segment',
          entry,
          entryPath,
          'an object such as {"id": 0, "fx": 9}, or {} to skip a segment',
        );
      }
      return checkFields(entry, SEGMENT_FIELDS, entryPath);
    });
  }
  throw invalidValue(
    'segment list',
    value,
    path,
    'an object such as {"fx": 9} or an array of segment objects',
  );
};

const STATE_FIELDS: Record<string, ValueCheck> = {
  on: toggleable('power'),
  bri: relativeByte('brightness', 0, 255),
  // Unit: tenths of a second.
  transition: wholeNumber('transition', 0, 65535, ' (tenths of a second)'),
  tt: wholeNumber('one-time transition', 0, 65535, ' (tenths of a second)'),
  tb: wholeNumber('effect timebase', 0, 4294967295),
  ps: presetSelection,
  pl: presetId('playlist', -1),
  psave: presetId('preset to save', 1),
  pdel: presetId('preset to delete', 1),
  pd: presetId('preset', 1),
  n: text('preset name', 32),
  ql: text('quick load label'),
  ib: boolean('include brightness'),
  sb: boolean('save segment bounds'),
  sc: boolean('selected segments only'),
  o: boolean('save as API preset'),
  np: boolean('next playlist entry'),
  playlist: object('playlist', {
    ps: playlistPresets,
    dur: numberOrList('playlist duration', 0, 65535),
    transition: numberOrList('playlist transition', 0, 65535),
    repeat: wholeNumber('playlist repeat count', -1, 127),
    end: wholeNumber('playlist end preset', 0, 255),
    r: boolean('playlist shuffle'),
  }),
  nl: object('nightlight', {
    on: toggleable('nightlight power'),
    // Unit: minutes.
    dur: wholeNumber('nightlight duration', 1, 255, ' (minutes)'),
    mode: wholeNumber('nightlight mode', 0, 3),
    tbri: wholeNumber('nightlight target brightness', 0, 255),
  }),
  udpn: object('sync settings', {
    send: toggleable('sync send'),
    recv: boolean('sync receive'),
    sgrp: wholeNumber('sync send groups', 0, 255),
    rgrp: wholeNumber('sync receive groups', 0, 255),
    nn: boolean('no notification'),
  }),
  rb: boolean('reboot'),
  live: boolean('live mode'),
  lor: wholeNumber('live override', 0, 2),
  time: wholeNumber('time', 0, 4294967295, ' (Unix seconds)'),
  mainseg: wholeNumber('main segment', 0, 255),
  ledmap: wholeNumber('LED map', 0, 15),
  win: text('HTTP API command'),
  rmcpal: boolean('remove custom palette'),
  bs: wholeNumber('blending style', 0, 255),
  seg: segments,
};

/**
 * Turns the set-state node's `msg.payload` into the state object to send.
 *
 * Accepts the shorthands `true`/`false`, `"on"`/`"off"`/`"toggle"` (any case) and a number
 * 0-255 for brightness (`{bri: 0}` turns the light off, as in WLED), or a WLED state object
 * whose known fields are checked and passed on as given. Known exceptions: `v` is removed
 * because the client adds it, and a `#` before a hex colour is removed.
 *
 * Unknown top-level and segment keys are passed on unchecked: WLED ignores keys it does not
 * know, and usermods add their own (such as `AudioReactive`), so rejecting them would block
 * valid requests to builds this package has not seen.
 */
export function parseSetStatePayload(payload: unknown): Record<string, unknown> {
  if (typeof payload === 'boolean') {
    return { on: payload };
  }

  if (typeof payload === 'string') {
    return parseShorthandString(payload);
  }

  if (typeof payload === 'number') {
    if (!isWholeNumber(payload, 0, 255)) {
      throw invalidValue('brightness', payload, PAYLOAD_PATH, 'a whole number from 0 to 255');
    }
    return { bri: payload };
  }

  if (!isPlainObject(payload)) {
    throw invalidState(payload);
  }

  const state = checkFields(payload, STATE_FIELDS, PAYLOAD_PATH);
  delete state.v;

  if (Object.keys(state).length === 0) {
    // An empty request only reads the state back, which is the get-state node's job, so an
    // empty object here is more likely a flow mistake than a deliberate read.
    throw invalidInput('input.empty-state', { path: PAYLOAD_PATH });
  }
  return state;
}

function parseShorthandString(payload: string): Record<string, unknown> {
  switch (payload.trim().toLowerCase()) {
    case 'on':
      return { on: true };
    case 'off':
      return { on: false };
    case 'toggle':
      return { on: 't' };
    default:
      throw invalidState(payload);
  }
}

function invalidState(payload: unknown) {
  if (payload === undefined || payload === null) {
    return invalidInput('input.missing-state', { path: PAYLOAD_PATH, forms: SHORTHAND_FORMS_TEXT });
  }
  return invalidInput('input.invalid-state', {
    value: describeValue(payload),
    path: PAYLOAD_PATH,
    forms: SHORTHAND_FORMS_TEXT,
  });
}
