/**
 * The one error taxonomy of the package. Every failure is classified once, where it is
 * detected (the transport, the lane, the input parser), into one of these classes; output 2,
 * the node status, the logs and the retry rules all read the class and nothing else.
 */

export const ERROR_CLASSES = [
  'invalid-input',
  'stale',
  'overloaded',
  'dropped',
  'truncated',
  'invalid-response',
  'protocol',
  'unreachable',
  'timeout',
  'http',
  'indeterminate',
  'wrong-device',
  'cancelled',
  'closed',
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

interface ErrorClassInfo {
  /** Whether sending the same request again may succeed. Whether the client actually
   *  repeats it also depends on the request being safe to repeat (see the retry rules). */
  retryable: boolean;
  /** What the user should do, appended to the message that says what happened. */
  advice: string;
}

export const ERROR_CLASS_INFO: Record<ErrorClass, ErrorClassInfo> = {
  'invalid-input': {
    retryable: false,
    advice: 'Correct the value named above; nothing was sent to the device.',
  },
  stale: {
    retryable: true,
    advice:
      'A reused connection had been closed by the device or a proxy; the request is repeated once on a new connection.',
  },
  overloaded: {
    retryable: true,
    advice:
      'The device is busy because too many requests reach it; send fewer requests, for example through a delay node that limits the rate.',
  },
  dropped: {
    retryable: true,
    advice:
      'The device accepted the connection and closed it without answering, which WLED does when it is short of memory; send fewer requests.',
  },
  truncated: {
    retryable: true,
    advice:
      'The answer was cut off before it was complete; check the Wi-Fi signal and the load on the device.',
  },
  'invalid-response': {
    retryable: true,
    advice: 'The answer was not valid WLED JSON; check that the address points at a WLED device.',
  },
  protocol: {
    retryable: false,
    advice:
      'The device sent HTTP that Node.js cannot parse; update the WLED firmware, or turn on lenient HTTP parsing in the device node.',
  },
  unreachable: {
    retryable: false,
    advice: 'The device is not answering; check its power, its Wi-Fi and the address.',
  },
  timeout: {
    retryable: true,
    advice: 'The device did not answer in time; check its power and Wi-Fi, or raise the timeouts.',
  },
  http: {
    retryable: false,
    advice: 'The device rejected the request; check the request and the device settings.',
  },
  indeterminate: {
    retryable: false,
    advice:
      'The write may or may not have been applied and could not be confirmed; read the state before sending it again.',
  },
  'wrong-device': {
    retryable: false,
    advice:
      'Another device now answers at this address, so writes are refused; check the address and redeploy.',
  },
  cancelled: {
    retryable: false,
    advice: 'The request was withdrawn before it completed.',
  },
  closed: {
    retryable: false,
    advice: 'The device node was stopped or redeployed before the request could be sent.',
  },
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

/** A classified failure. `message` says what happened and what to do, in plain words. */
export class WledError extends Error {
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;
  readonly details: WledErrorDetails;

  constructor(errorClass: ErrorClass, what: string, details: WledErrorDetails = {}) {
    const info = ERROR_CLASS_INFO[errorClass];
    super(
      `${what}. ${info.advice}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'WledError';
    this.errorClass = errorClass;
    this.retryable = info.retryable;
    this.details = details;
  }
}

/** Builds the error for input that failed validation: names the value and the accepted forms. */
export function invalidInput(what: string): WledError {
  return new WledError('invalid-input', what);
}

export function isWledError(value: unknown): value is WledError {
  return value instanceof WledError;
}
