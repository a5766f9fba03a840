/**
 * The one error taxonomy of the package. Every failure is classified once, where it is
 * detected (the transport, the lane, the input parser), into one of these classes; output 2,
 * the node status, the logs and the retry rules all read the class and nothing else.
 */

import {
  messageText,
  renderMessage,
  type MessageKey,
  type MessageParams,
  type MessageText,
} from './messages';

export const ERROR_CLASSES = [
  'invalid-input',
  'stale',
  'overloaded',
  'dropped',
  'truncated',
  'invalid-response',
  'protocol',
  'tls',
  'unreachable',
  'timeout',
  'http',
  'indeterminate',
  'wrong-device',
  'cancelled',
  'closed',
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Whether sending the same request again may succeed. Whether the client actually repeats it
 *  also depends on the request being safe to repeat (see the retry rules). What the user
 *  should do is the `advice.<class>` message, appended to the message that says what happened. */
export const RETRYABLE: Record<ErrorClass, boolean> = {
  'invalid-input': false,
  stale: true,
  overloaded: true,
  dropped: true,
  truncated: true,
  'invalid-response': true,
  protocol: false,
  tls: false,
  unreachable: false,
  timeout: true,
  http: false,
  indeterminate: false,
  'wrong-device': false,
  cancelled: false,
  closed: false,
};

/** Details recorded with a failed request, for output 2 and the logs. */
export interface WledErrorDetails {
  /** Name of the device config node, or its host when it has no name. */
  device?: string;
  method?: string;
  path?: string;
  /** HTTP status, when the device answered with one. */
  status?: number;
  /** Requests sent for this call, retries included. */
  attempts?: number;
  elapsedMs?: number;
  /** Whether the failing attempt ran on a socket that had served an earlier request. */
  reusedSocket?: boolean;
  bytesReceived?: number;
  /** Network or parser error code (ECONNREFUSED, HPE_INVALID_CHUNK_SIZE, ...). */
  code?: string;
  /** Milliseconds from sending the last attempt to its first response byte. */
  ttfbMs?: number;
  /** Calls waiting in the device's lane when this one was queued. */
  queueDepth?: number;
  /** Writes folded into the request that carried this one (1 when it went alone). */
  mergedWrites?: number;
  cause?: unknown;
}

/** A classified failure. `message` says what happened and what to do, in plain English;
 *  `messageKey` and `messageParams` let a node render the first part in the user's language. */
export class WledError extends Error {
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;
  readonly details: WledErrorDetails;
  /** Template of what happened, without the advice of the class. */
  readonly messageKey: MessageKey;
  readonly messageParams: MessageParams;

  constructor(errorClass: ErrorClass, what: MessageText, details: WledErrorDetails = {}) {
    super(
      renderMessage(describeFailure(errorClass, what)),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'WledError';
    this.errorClass = errorClass;
    this.retryable = RETRYABLE[errorClass];
    this.details = details;
    this.messageKey = what.key;
    this.messageParams = what.params ?? {};
  }

  /** Returns what happened, without the advice. */
  get what(): MessageText {
    return messageText(this.messageKey, this.messageParams);
  }
}

/** Builds the full message of a failure: what happened, then the advice of its class. */
export function describeFailure(errorClass: ErrorClass, what: MessageText): MessageText {
  return messageText('error.with-advice', {
    what,
    advice: messageText(`advice.${errorClass}` as const),
  });
}

/** Builds the error for input that failed validation: names the value and the accepted forms. */
export function invalidInput(key: MessageKey, params?: MessageParams): WledError {
  return new WledError('invalid-input', messageText(key, params));
}

export function isWledError(value: unknown): value is WledError {
  return value instanceof WledError;
}
