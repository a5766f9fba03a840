/**
 * Turns what one attempt produced (an axios error with the socket observations, or a
 * complete response) into exactly one error class. Nothing else in the client looks at raw
 * error codes.
 */

import { isAxiosError } from 'axios';
import { WledError, type ErrorClass, type WledErrorDetails } from '../errors';
import {
  messageText,
  renderMessage,
  type MessageKey,
  type MessageParams,
  type MessageText,
} from '../messages';
import type { AttemptObservation } from './transport';
import type { DeviceTimeouts } from './types';

/** Why the client aborted an attempt: the class and the words to report. */
export class AbortReason extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    readonly what: MessageText,
  ) {
    super(renderMessage(what));
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

/** Certificate errors of Node's TLS layer: the connection to an https address was refused
 *  on our side, because the certificate could not be verified. */
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Returns whether an error code comes from TLS: a rejected certificate or a failed handshake
 *  (OpenSSL reports ERR_SSL_WRONG_VERSION_NUMBER when the port responds in plain HTTP). */
function isTlsFailure(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (CERTIFICATE_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
  );
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
  const code = errorCode(cause);
  const make = (errorClass: ErrorClass, key: MessageKey, params?: MessageParams): WledError =>
    makeFrom(errorClass, messageText(key, params));
  const makeFrom = (errorClass: ErrorClass, reason: MessageText): WledError =>
    new WledError(
      errorClass,
      requestFailure(context, reason),
      baseDetails(context, observation, { code, cause }),
    );

  // Our own aborts carry the class to report (deadline, close, every caller gone).
  if (signal.aborted && signal.reason instanceof AbortReason) {
    return makeFrom(signal.reason.errorClass, signal.reason.what);
  }

  if (observation.connectTimedOut) {
    return make('unreachable', 'transport.connect-timeout', { ms: context.timeouts.connectMs });
  }
  if (isConnectFailure(code)) {
    return make('unreachable', 'transport.connect-failed', { code: String(code) });
  }
  if (isTlsFailure(code)) {
    return make('tls', 'transport.tls-failed', { code: String(code) });
  }
  if (code !== undefined && code.startsWith('HPE_')) {
    return make('protocol', 'transport.unparsable', { code });
  }
  if (isAxiosError(cause) && cause.code === 'ECONNABORTED') {
    return make('timeout', 'transport.response-timeout', { ms: context.timeouts.responseMs });
  }
  if (
    isAxiosError(cause) &&
    cause.code === 'ERR_BAD_RESPONSE' &&
    /maxContentLength/.test(cause.message)
  ) {
    return make('invalid-response', 'transport.too-large');
  }

  if (observation.responseStarted) {
    return make('truncated', 'transport.body-cut-off', {
      bytes: observation.bytesReceived,
      code: code ?? 'aborted',
    });
  }
  if (OVERLOAD_STATUS_LINE.test(observation.firstBytes)) {
    return make('overloaded', 'transport.overloaded-closed');
  }
  if (observation.bytesReceived > 0) {
    return make('truncated', 'transport.headers-cut-off', {
      bytes: observation.bytesReceived,
      code: code ?? 'closed',
    });
  }
  if (!observation.connected) {
    return make('unreachable', 'transport.connect-failed', { code: code ?? 'closed' });
  }
  if (observation.reusedSocket) {
    return make('stale', 'transport.stale', { code: code ?? 'closed' });
  }
  return make('dropped', 'transport.dropped', { code: code ?? 'closed' });
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
  validate?: (data: unknown) => MessageText | undefined,
): ResponseOutcome {
  const make = (errorClass: ErrorClass, key: MessageKey, params?: MessageParams): WledError =>
    new WledError(
      errorClass,
      requestFailure(context, messageText(key, params)),
      baseDetails(context, observation, { status }),
    );

  if (status === 503) {
    return {
      error: make('overloaded', 'response.busy'),
      retryAfterMs: parseRetryAfter(headers['retry-after']),
    };
  }
  if (status < 200 || status > 299) {
    return { error: make('http', 'response.http-status', { status, body: describeBody(body) }) };
  }

  const text = body.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const error =
      text.trim() === ''
        ? make('invalid-response', 'response.empty')
        : make('invalid-response', 'response.not-json', {
            bytes: body.length,
            start: preview(text),
          });
    return { error };
  }

  const wledError = firmwareError(data);
  if (wledError === WLED_ERROR_BUFFER_BUSY) {
    return { error: make('overloaded', 'response.buffer-busy') };
  }
  if (wledError !== undefined) {
    return { error: make('http', 'response.firmware-error', { code: wledError }) };
  }

  const problem = validate?.(data);
  if (problem !== undefined) {
    return { error: make('invalid-response', 'response.invalid-shape', { problem }) };
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

/** Builds the message of a failed request: "device: METHOD path: reason". */
export function requestFailure(
  request: { device: string; method: 'GET' | 'POST'; path: string },
  reason: MessageText,
): MessageText {
  const { device, method, path } = request;
  return messageText('request.failed', { device, method, path, reason });
}

/** Returns why a request failed, without "device: METHOD path: " in front and the advice behind. */
export function failureReason(error: WledError): MessageText {
  const reason = error.messageKey === 'request.failed' ? error.messageParams.reason : undefined;
  return typeof reason === 'object' ? reason : error.what;
}

/** Copies an error with some of its details replaced; the class and message stay. */
export function withDetails(error: WledError, details: WledErrorDetails): WledError {
  return new WledError(error.errorClass, error.what, { ...error.details, ...details });
}

/** Builds the error of a call that failed in the client itself: closed, rejected, withdrawn. */
export function requestError(
  errorClass: ErrorClass,
  device: string,
  request: { method: 'GET' | 'POST'; path: string },
  what: MessageText,
  details: WledErrorDetails = {},
): WledError {
  const { method, path } = request;
  return new WledError(errorClass, requestFailure({ device, method, path }, what), {
    device,
    method,
    path,
    ...details,
  });
}
