/**
 * Shape checks of parsed response bodies. Each returns what is wrong, or undefined when the
 * body is usable; a failed check is an invalid response, like broken JSON.
 */

import { messageText, type MessageText } from '../messages';
import { RESOURCE_PATHS } from '../wled/resources';

export type Validator = (data: unknown) => MessageText | undefined;

function isObject(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !Array.isArray(data);
}

export const expectObject: Validator = (data) =>
  isObject(data)
    ? undefined
    : messageText('response.not-object', { type: Array.isArray(data) ? 'an array' : typeof data });

export const expectStringList: Validator = (data) => {
  if (!Array.isArray(data)) {
    return messageText('response.not-name-list', {
      type: isObject(data) ? 'an object' : typeof data,
    });
  }
  const bad = data.findIndex((item) => typeof item !== 'string');
  return bad < 0
    ? undefined
    : messageText('response.bad-name', { type: typeof data[bad], index: bad });
};

const expectInfo: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  return typeof data.ver === 'string' ? undefined : messageText('response.no-version');
};

const expectState: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  return 'on' in data || 'bri' in data ? undefined : messageText('response.no-on-bri');
};

const expectFull: Validator = (data) => {
  if (!isObject(data)) {
    return expectObject(data);
  }
  if (!isObject(data.state)) {
    return messageText('response.no-state');
  }
  return isObject(data.info) ? undefined : messageText('response.no-info');
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
