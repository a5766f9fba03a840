/**
 * Shape checks of parsed response bodies. Each returns what is wrong, or undefined when the
 * body is usable; a failed check is an invalid response, like broken JSON.
 */

import { RESOURCE_PATHS } from '../wled/resources';

export type Validator = (data: unknown) => string | undefined;

function isObject(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

export const expectObject: Validator = (data) =>
  isObject(data)
    ? undefined
    : `is ${Array.isArray(data) ? 'an array' : typeof data}, not a JSON object`;

export const expectStringList: Validator = (data) => {
  if (!Array.isArray(data)) {
    return `is ${isObject(data) ? 'an object' : typeof data}, not a JSON array of names`;
  }
  const bad = data.findIndex((item) => typeof item !== 'string');
  return bad < 0 ? undefined : `has a ${typeof data[bad]} at index ${bad} where a name belongs`;
};

const expectInfo: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  return typeof data.ver === 'string' ? undefined : 'has no "ver" string, so it is not WLED info';
};

const expectState: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  return 'on' in data || 'bri' in data
    ? undefined
    : 'has neither "on" nor "bri", so it is not a WLED state';
};

const expectFull: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  if (!isObject(data.state)) {
    return 'has no "state" object';
  }
  return isObject(data.info) ? undefined : 'has no "info" object';
};

const BY_PATH: Record<string, Validator> = {
  [RESOURCE_PATHS.state]: expectState,
  [RESOURCE_PATHS.info]: expectInfo,
  [RESOURCE_PATHS.full]: expectFull,
  [RESOURCE_PATHS.effects]: expectStringList,
  [RESOURCE_PATHS.palettes]: expectStringList,
  [RESOURCE_PATHS.presets]: expectObject,
};

export function validatorFor(path: string): Validator {
  return BY_PATH[path] ?? (() => undefined);
}
