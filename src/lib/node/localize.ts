/**
 * Renders the errors of the plain modules through Node-RED's `RED._`, in the runtime's
 * language, from the `messages` section of the device node's catalogue.
 */

import type { NodeAPI } from 'node-red';

import { describeFailure, isWledError, WledError } from '../errors';
import { formatMessage, renderMessage, type Translator } from '../messages';

/** Catalogue of the device node, which holds the `messages` section for every node type. */
const NAMESPACE = 'node-red-contrib-wled-jsonapi/wled-jsonapi-device';

/**
 * Returns a translator that looks templates up with `RED._`. Where `RED._` returns the key
 * unchanged because no catalogue is loaded (as in node-red-node-test-helper), it renders the
 * English template instead.
 */
export function translatorFor(RED: NodeAPI): Translator {
  return (key, params) => {
    const id = `messages.${key}`;
    const text = RED._(`${NAMESPACE}:${id}`, params);
    return text === id || text === `${NAMESPACE}:${id}` ? formatMessage(key, params) : text;
  };
}

/** Returns the text of an error in the runtime's language: what happened and what to do. */
export function localizeError(RED: NodeAPI, err: unknown): string {
  if (isWledError(err)) {
    return renderMessage(describeFailure(err.errorClass, err.what), translatorFor(RED));
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Returns the error to hand to `done(err)` and output 2: a `WledError` with the same class,
 * details and message key whose `message` is in the runtime's language. Other values come back
 * as an `Error` unchanged.
 */
export function localizedError(RED: NodeAPI, err: unknown): Error {
  if (!isWledError(err)) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const message = localizeError(RED, err);
  if (message === err.message) {
    return err;
  }
  const copy = new WledError(err.errorClass, err.what, err.details);
  copy.message = message;
  return copy;
}
