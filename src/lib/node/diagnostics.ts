/**
 * Builds the messages that every flow node sends on its second output: one when a request of
 * that node fails, and one when its device's connection state changes. Both share the
 * `payload.event` field so a Switch node can tell them apart.
 */

import type { ConnectionState, StateChange } from '../connection-state';
import type { ErrorClass } from '../errors';
import { isWledError } from '../errors';

/** The parts of an input message used to correlate a failure with the message that caused it. */
export interface InputMessageRef {
  _msgid?: string;
  topic?: unknown;
}

/** `msg.payload` of a diagnostics message sent after a failed request. */
export interface RequestFailedPayload {
  event: 'request-failed';
  /** Name of the device config node, or its host when it has no name. */
  device: string;
  errorClass: ErrorClass | 'unknown';
  message: string;
  /** HTTP status of the last attempt, when a response arrived. */
  status?: number;
  /** Requests sent for this call, retries included. */
  attempts?: number;
  elapsedMs?: number;
  /** The device's connection state after the failure. */
  state: ConnectionState;
  reusedSocket?: boolean;
  /** Milliseconds from sending the last attempt to its first response byte. */
  ttfbMs?: number;
  /** Calls waiting in the device's lane when this one failed. */
  queueDepth?: number;
  /** Writes folded into the request that carried this one. */
  mergedWrites?: number;
  /** `_msgid` of the input message. */
  msgid?: string;
  /** `topic` of the input message. */
  topic?: unknown;
}

/** `msg.payload` of a diagnostics message sent when the device's connection state changes. */
export type StateChangePayload = { event: 'state-change' } & StateChange;

/** A message for output 2; `topic` repeats the input message's topic when it is a string. */
export interface DiagnosticsMessage<P> {
  topic?: string;
  payload: P;
  [key: string]: unknown;
}

/** Lane figures a failed call may carry beside the documented `WledErrorDetails` fields. */
interface LaneFigures {
  ttfbMs?: number;
  queueDepth?: number;
  mergedWrites?: number;
}

/**
 * Builds the output-2 message for a failed request. Figures the error does not carry are left
 * out rather than guessed, except the queue depth, which falls back to the lane's current one.
 */
export function requestFailedMessage(
  err: unknown,
  input: InputMessageRef,
  device: { name: string; state: ConnectionState; queueDepth?: number },
): DiagnosticsMessage<RequestFailedPayload> {
  const payload: RequestFailedPayload = {
    event: 'request-failed',
    device: device.name,
    errorClass: 'unknown',
    message: err instanceof Error ? err.message : String(err),
    state: device.state,
  };

  if (isWledError(err)) {
    const details = err.details;
    const figures = details as LaneFigures;
    payload.errorClass = err.errorClass;
    assignDefined(payload, {
      status: details.status,
      attempts: details.attempts,
      elapsedMs: details.elapsedMs,
      reusedSocket: details.reusedSocket,
      ttfbMs: figures.ttfbMs,
      queueDepth: figures.queueDepth ?? device.queueDepth,
      mergedWrites: figures.mergedWrites,
    });
  }

  assignDefined(payload, { msgid: input._msgid, topic: input.topic });

  return typeof input.topic === 'string' ? { topic: input.topic, payload } : { payload };
}

/** Builds the output-2 message for a change of the device's connection state. */
export function stateChangeMessage(change: StateChange): DiagnosticsMessage<StateChangePayload> {
  const payload: StateChangePayload = {
    event: 'state-change',
    device: change.device,
    from: change.from,
    to: change.to,
    reason: change.reason,
    at: change.at,
  };
  assignDefined(payload, { errorClass: change.errorClass });

  return { topic: 'state-change', payload };
}

/** Copies the fields whose value is not undefined, so the message shows no empty keys. */
function assignDefined<T extends object>(target: T, fields: Partial<T>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) {
      (target as Record<string, unknown>)[key] = value;
    }
  }
}
