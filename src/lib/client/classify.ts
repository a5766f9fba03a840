/**
 * Turns what one attempt produced (an axios error with the socket observations, or a
 * complete response) into exactly one error class. Nothing else in the client looks at raw
 * error codes.
 */

import { isAxiosError } from 'axios';
import { ERROR_CLASS_INFO, WledError, type ErrorClass, type WledErrorDetails } from '../errors';
import type { AttemptObservation } from './transport';
import type { DeviceTimeouts } from './types';

/** Why the client aborted an attempt: the class and the words to report. */
export class AbortReason extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    readonly what: string,
  ) {
    super(what);
    this.name = 'AbortReason';
  }
}

export interface AttemptContext {
  device: string;
  method: 'GET' | 'POST';
  path: string;
  timeouts: DeviceTimeouts;
}

/** Error codes of a connection that could not be opened: the request never reached the device.
 *  `ECONNRESET` is not one of them, because a reset needs a peer that accepted the connection. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** Returns whether a socket error code means that no connection to the device could be opened.
 *  The HTTP client and the live WebSocket both classify such failures as `unreachable`. */
export function isConnectFailure(code: string | undefined): boolean {
  return code !== undefined && CONNECT_CODES.has(code);
}

/** Start of the firmware's overload reply. WLED 16.x sends it without the blank line that
 *  ends the header block, so Node never parses a response from it. */
const OVERLOAD_STATUS_LINE = /^HTTP\/1\.[01] 503/;

/** WLED's `ERR_NOBUF`: the JSON buffer was busy. */
const WLED_ERROR_BUFFER_BUSY = 3;

function baseDetails(
  context: AttemptContext,
  observation: AttemptObservation,
  extra: WledErrorDetails,
): WledErrorDetails {
  return {
    device: context.device,
    method: context.method,
    path: context.path,
    elapsedMs: observation.elapsedMs,
    reusedSocket: observation.reusedSocket,
    bytesReceived: observation.bytesReceived,
    ...extra,
  };
}

function errorCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null) {
    return undefined;
  }
  const own = (cause as { code?: unknown }).code;
  const inner = (cause as { cause?: { code?: unknown } }).cause?.code;
  // axios wraps parser errors; the llhttp code (HPE_*) sits on the cause.
  if (typeof inner === 'string' && inner.startsWith('HPE_')) {
    return inner;
  }
  if (typeof own === 'string') {
    return own;
  }
  return typeof inner === 'string' ? inner : undefined;
}

/** Classifies a rejected axios request. */
export function classifyTransportError(
  cause: unknown,
  observation: AttemptObservation,
  signal: AbortSignal,
  context: AttemptContext,
): WledError {
  const request = `${context.device}: ${context.method} ${context.path}`;
  const code = errorCode(cause);
  const make = (errorClass: ErrorClass, what: string): WledError =>
    new WledError(
      errorClass,
      `${request}: ${what}`,
      baseDetails(context, observation, { code, cause }),
    );

  // Our own aborts carry the class to report (deadline, close, every caller gone).
  if (signal.aborted && signal.reason instanceof AbortReason) {
    return make(signal.reason.errorClass, signal.reason.what);
  }

  if (observation.connectTimedOut) {
    return make('unreachable', `no connection within ${context.timeouts.connectMs} ms`);
  }
  if (isConnectFailure(code)) {
    return make('unreachable', `the connection failed (${code})`);
  }
  if (code !== undefined && code.startsWith('HPE_')) {
    return make('protocol', `the response could not be parsed (${code})`);
  }
  if (isAxiosError(cause) && cause.code === 'ECONNABORTED') {
    return make('timeout', `no response data for ${context.timeouts.responseMs} ms`);
  }
  if (
    isAxiosError(cause) &&
    cause.code === 'ERR_BAD_RESPONSE' &&
    /maxContentLength/.test(cause.message)
  ) {
    return make('invalid-response', `the response is larger than the client accepts`);
  }

  if (observation.responseStarted) {
    return make(
      'truncated',
      `the response was cut off after ${observation.bytesReceived} bytes, headers included (${code ?? 'aborted'})`,
    );
  }
  if (OVERLOAD_STATUS_LINE.test(observation.firstBytes)) {
    return make('overloaded', 'the device answered 503 and closed the connection');
  }
  if (observation.bytesReceived > 0) {
    return make(
      'truncated',
      `the response headers were cut off after ${observation.bytesReceived} bytes (${code ?? 'closed'})`,
    );
  }
  if (!observation.connected) {
    return make('unreachable', `the connection failed (${code ?? 'closed'})`);
  }
  if (observation.reusedSocket) {
    return make(
      'stale',
      `the reused connection was closed before any response (${code ?? 'closed'})`,
    );
  }
  return make(
    'dropped',
    `the device closed the connection without answering (${code ?? 'closed'})`,
  );
}

export interface ResponseOutcome {
  data?: unknown;
  error?: WledError;
  retryAfterMs?: number;
}

/** Classifies a complete response: status, then strict JSON parsing, then the shape check. */
export function classifyResponse(
  status: number,
  headers: Record<string, unknown>,
  body: Buffer,
  observation: AttemptObservation,
  context: AttemptContext,
  validate?: (data: unknown) => string | undefined,
): ResponseOutcome {
  const request = `${context.device}: ${context.method} ${context.path}`;
  const make = (errorClass: ErrorClass, what: string): WledError =>
    new WledError(errorClass, `${request}: ${what}`, baseDetails(context, observation, { status }));

  if (status === 503) {
    return {
      error: make('overloaded', 'the device answered 503 (busy)'),
      retryAfterMs: parseRetryAfter(headers['retry-after']),
    };
  }
  if (status < 200 || status > 299) {
    return { error: make('http', `the device answered HTTP ${status}${describeBody(body)}`) };
  }

  const text = body.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const what =
      text.trim() === ''
        ? 'the response body is empty'
        : `the response is not valid JSON (${body.length} bytes, starting "${preview(text)}")`;
    return { error: make('invalid-response', what) };
  }

  const wledError = firmwareError(data);
  if (wledError === WLED_ERROR_BUFFER_BUSY) {
    return { error: make('overloaded', 'the device reported its JSON buffer busy (error 3)') };
  }
  if (wledError !== undefined) {
    return { error: make('http', `the device reported error ${wledError}`) };
  }

  const problem = validate?.(data);
  if (problem !== undefined) {
    return { error: make('invalid-response', `the response ${problem}`) };
  }
  return { data };
}

/** Returns N for a body that is only `{"error": N}`, WLED's way of failing a request. */
function firmwareError(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return undefined;
  }
  const keys = Object.keys(data);
  const value = (data as { error?: unknown }).error;
  return keys.length === 1 && typeof value === 'number' ? value : undefined;
}

function describeBody(body: Buffer): string {
  const text = body.toString('utf8').trim();
  return text === '' ? '' : ` ("${preview(text)}")`;
}

function preview(text: string): string {
  const clean = text.replace(/\s+/g, ' ');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

/** Parses `Retry-After` in seconds (the only form WLED sends) into milliseconds. */
function parseRetryAfter(value: unknown): number | undefined {
  const seconds = typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** Returns the message of an error without its advice sentence. */
export function withoutAdvice(error: WledError): string {
  const suffix = `. ${ERROR_CLASS_INFO[error.errorClass].advice}`;
  return error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}

/** Returns the part of an error message after "device: METHOD path: ", without the advice. */
export function failureReason(error: WledError): string {
  const sentence = withoutAdvice(error);
  const { device, method, path } = error.details;
  const prefix = `${device}: ${method} ${path}: `;
  return sentence.startsWith(prefix) ? sentence.slice(prefix.length) : sentence;
}

/** Copies an error with some of its details replaced; the class and message stay. */
export function withDetails(error: WledError, details: WledErrorDetails): WledError {
  return new WledError(error.errorClass, withoutAdvice(error), { ...error.details, ...details });
}

/** Builds the error of a call that failed in the client itself: closed, rejected, withdrawn. */
export function requestError(
  errorClass: ErrorClass,
  device: string,
  request: { method: 'GET' | 'POST'; path: string },
  what: string,
  details: WledErrorDetails = {},
): WledError {
  const { method, path } = request;
  return new WledError(errorClass, `${device}: ${method} ${path}: ${what}`, {
    device,
    method,
    path,
    ...details,
  });
}
