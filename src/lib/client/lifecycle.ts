/**
 * The connection state of one device, driven only by classified request outcomes: never by
 * socket events. It also owns the backoff timer that leads from `unreachable` to a probe.
 */

import type { ConnectionState, StateChange } from '../connection-state';
import type { ErrorClass, WledError } from '../errors';

export interface RecoveryOptions {
  /** Connect failures or timeouts in a row that make the device unreachable. */
  failuresToUnreachable: number;
  /** Clean, fast responses in a row that bring a degraded device back to connected. */
  successesToRecover: number;
  /** First backoff step before a probe, in milliseconds; it doubles after each failed probe. */
  backoffBaseMs: number;
  /** Largest backoff step, in milliseconds. */
  backoffMaxMs: number;
  /** A response slower than this (milliseconds, from sending to the parsed body) counts as
   *  high latency and degrades the device. */
  slowResponseMs: number;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  failuresToUnreachable: 3,
  successesToRecover: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  slowResponseMs: 2000,
};

/**
 * Computes the wait before the next attempt after `step` failures in a row, and the step to
 * use after it. The step doubles from `backoffBaseMs` up to `backoffMaxMs`. Equal jitter picks
 * between half and all of the step, so devices that failed together do not all retry at the
 * same moment, and the wait still grows with every failure. The client's probes and the live
 * WebSocket's reconnects both use it.
 */
export function backoffDelay(
  step: number,
  options: Pick<RecoveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>,
  random: () => number = Math.random,
): { delayMs: number; nextStep: number } {
  const stepMs = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** step);
  const delayMs = Math.round(stepMs / 2 + (random() * stepMs) / 2);
  return { delayMs, nextStep: stepMs < options.backoffMaxMs ? step + 1 : step };
}

/** Failures showing that the device responded or accepted the connection but struggled. */
const STRUGGLING: ReadonlySet<ErrorClass> = new Set([
  'overloaded',
  'invalid-response',
  'truncated',
  'dropped',
]);

/** Failures showing that nothing responds at the address. */
const NOT_RESPONDING: ReadonlySet<ErrorClass> = new Set(['unreachable', 'timeout']);

export interface LifecycleHooks {
  onChange(change: StateChange): void;
  /** Called when the backoff has elapsed and a probe should be sent. */
  probe(): void;
  random?: () => number;
}

export class ConnectionLifecycle {
  private current: ConnectionState = 'idle';
  private changedAt = Date.now();
  private notAnsweringInRow = 0;
  private cleanInRow = 0;
  private backoffStep = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Epoch milliseconds of the next probe while unreachable. */
  nextProbeAt: number | undefined;
  /** Epoch milliseconds when the device went unreachable; probes that fail do not move it. */
  unreachableSince: number | undefined;

  constructor(
    private readonly device: string,
    private readonly options: RecoveryOptions,
    private readonly hooks: LifecycleHooks,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  get since(): number {
    return this.changedAt;
  }

  /** Whether new calls must fail at once because the device does not respond. */
  get failingFast(): boolean {
    return this.current === 'unreachable' || this.current === 'probing';
  }

  get ended(): boolean {
    return this.current === 'closing' || this.current === 'closed';
  }

  requestStarting(): void {
    if (this.current === 'idle') {
      this.transition('connecting', 'first request');
    }
  }

  recordSuccess(latencyMs: number): void {
    this.notAnsweringInRow = 0;
    this.backoffStep = 0;
    this.unreachableSince = undefined;
    if (this.frozen()) {
      return;
    }

    const slow = latencyMs > this.options.slowResponseMs;
    const slowReason = `a response took ${Math.round(latencyMs)} ms`;

    switch (this.current) {
      case 'idle':
      case 'connecting':
      case 'unreachable':
      case 'probing': {
        const reason =
          this.current === 'probing' ? 'the probe was answered' : 'the device answered';
        this.cleanInRow = 0;
        this.transition(
          slow ? 'degraded' : 'connected',
          slow ? `${reason}, but ${slowReason}` : reason,
        );
        return;
      }
      case 'connected':
        if (slow) {
          this.cleanInRow = 0;
          this.transition('degraded', slowReason);
        }
        return;
      case 'degraded':
        this.cleanInRow = slow ? 0 : this.cleanInRow + 1;
        if (this.cleanInRow >= this.options.successesToRecover) {
          this.transition('connected', `${this.cleanInRow} clean responses in a row`);
        }
        return;
      default:
        return;
    }
  }

  recordFailure(error: WledError): void {
    if (this.frozen()) {
      return;
    }
    const errorClass = error.errorClass;

    if (NOT_RESPONDING.has(errorClass)) {
      this.notAnsweringInRow += 1;
      if (this.current === 'unreachable') {
        // The probe timer already runs. Restarting it (a live channel's failed reconnect does
        // this) would silently push back the check that the last transition announced.
        return;
      }
      if (this.current === 'probing') {
        this.enterUnreachable('the probe failed', errorClass);
        return;
      }
      if (this.notAnsweringInRow >= this.options.failuresToUnreachable) {
        this.enterUnreachable(`${this.notAnsweringInRow} connection failures in a row`, errorClass);
      }
      return;
    }

    if (STRUGGLING.has(errorClass)) {
      this.notAnsweringInRow = 0;
      this.cleanInRow = 0;
      // A busy or struggling device did reply, so a pending probe is no longer needed.
      this.clearProbeTimer();
      this.unreachableSince = undefined;
      if (this.current !== 'degraded') {
        this.transition('degraded', describeStruggle(errorClass), errorClass);
      }
      return;
    }

    if (errorClass === 'http' || errorClass === 'protocol' || errorClass === 'tls') {
      // The device responded, so it is reachable even though this request failed.
      this.notAnsweringInRow = 0;
      if (this.current === 'connecting' || this.current === 'probing') {
        this.unreachableSince = undefined;
        this.transition('connected', 'the device answered', errorClass);
      }
    }
  }

  /**
   * Probes at once instead of waiting out the backoff, for when another channel to the device
   * (its WebSocket) shows it is back. The probe's outcome decides the state, as usual.
   */
  probeNow(reason: string): void {
    if (this.current !== 'unreachable') {
      return;
    }
    this.clearProbeTimer();
    this.transition('probing', reason);
    this.hooks.probe();
  }

  markWrongDevice(reason: string): void {
    if (this.ended || this.current === 'wrong-device') {
      return;
    }
    this.clearProbeTimer();
    this.transition('wrong-device', reason, 'wrong-device');
  }

  beginClosing(): void {
    this.clearProbeTimer();
    if (!this.ended) {
      this.transition('closing', 'the client is closing');
    }
  }

  markClosed(): void {
    this.clearProbeTimer();
    if (this.current !== 'closed') {
      this.transition('closed', 'the client was closed');
    }
  }

  /** Returns whether the state no longer follows request outcomes. */
  private frozen(): boolean {
    // NOTE: after `wrong-device` a device that stops responding is not marked unreachable,
    // so its reads are not failed fast. The state stays until the client is recreated.
    return this.ended || this.current === 'wrong-device';
  }

  private enterUnreachable(reason: string, errorClass: ErrorClass): void {
    const { delayMs, nextStep } = backoffDelay(
      this.backoffStep,
      this.options,
      this.hooks.random ?? Math.random,
    );
    this.backoffStep = nextStep;

    this.clearProbeTimer();
    this.nextProbeAt = Date.now() + delayMs;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.nextProbeAt = undefined;
      this.transition('probing', `waited ${delayMs} ms, checking the device`);
      this.hooks.probe();
    }, delayMs);

    if (this.current !== 'unreachable') {
      if (this.current !== 'probing') {
        this.unreachableSince = Date.now();
      }
      this.transition('unreachable', `${reason}; next check in ${delayMs} ms`, errorClass);
    }
  }

  private clearProbeTimer(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.nextProbeAt = undefined;
  }

  private transition(to: ConnectionState, reason: string, errorClass?: ErrorClass): void {
    const from = this.current;
    if (from === to) {
      return;
    }
    this.current = to;
    this.changedAt = Date.now();
    this.hooks.onChange({ device: this.device, from, to, reason, errorClass, at: this.changedAt });
  }
}

function describeStruggle(errorClass: ErrorClass): string {
  switch (errorClass) {
    case 'overloaded':
      return 'the device reported that it is busy';
    case 'invalid-response':
      return 'the device sent an invalid response';
    case 'truncated':
      return 'a response was cut off';
    default:
      return 'the device closed a connection without answering';
  }
}
