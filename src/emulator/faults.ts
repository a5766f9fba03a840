import type { FaultKind, FaultSpec } from './types';

/** Faults that change how one response goes over the wire; at most one applies per request. */
export const RESPONSE_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  'delay-headers',
  'never-answer',
  'trickle-body',
  'short-body-fin',
  'short-body-rst',
  'cut-json',
  'reset-before-response',
  'reset-after-headers',
  'padded-chunks',
  'html-error',
  'busy',
]);

/** Faults that change what happens to the connection after a response. */
export const CONNECTION_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  'keep-alive-idle',
  'silent-close',
]);

/** Faults that hold for a while (until cleared, unless given a count or a window). */
const MODE_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  'keep-alive-idle',
  'silent-close',
  'ws-refuse',
  'ws-silent',
]);

/** Default `delayMs` per fault kind, in ms. */
export const DEFAULT_DELAY_MS: Partial<Record<FaultKind, number>> = {
  'delay-headers': 1000,
  'trickle-body': 50,
  'keep-alive-idle': 300,
  reboot: 2000,
};

const ALL_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  ...RESPONSE_FAULTS,
  ...MODE_FAULTS,
  'refuse-connections',
  'reboot',
  'other-device',
]);

interface ActiveFault {
  spec: FaultSpec;
  /** Requests (or accepted connections) this fault still applies to. */
  remaining: number;
  /** `Date.now()` after which the fault no longer applies. */
  until: number;
}

/** Throws a `TypeError` naming the problem when `value` is not a usable `FaultSpec`. */
export function validateFaultSpec(value: unknown): FaultSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('invalid fault: expected a JSON object with a "kind" field');
  }

  const spec = value as Record<string, unknown>;
  if (typeof spec.kind !== 'string' || !ALL_FAULTS.has(spec.kind as FaultKind)) {
    throw new TypeError(
      `invalid fault kind ${JSON.stringify(spec.kind)}; expected one of ${[...ALL_FAULTS].join(', ')}`,
    );
  }

  for (const field of ['count', 'forMs', 'delayMs', 'status']) {
    const fieldValue = spec[field];
    if (fieldValue !== undefined && (typeof fieldValue !== 'number' || fieldValue < 0)) {
      throw new TypeError(
        `invalid fault ${field} ${JSON.stringify(fieldValue)}; expected a number >= 0`,
      );
    }
  }
  for (const field of ['path', 'mac']) {
    if (spec[field] !== undefined && typeof spec[field] !== 'string') {
      throw new TypeError(
        `invalid fault ${field} ${JSON.stringify(spec[field])}; expected a string`,
      );
    }
  }

  return spec as unknown as FaultSpec;
}

/**
 * The faults currently injected. A fault with `forMs` applies to every matching request in that
 * window. Otherwise it applies to the next `count` matching requests: by default one request,
 * or every request until cleared for the connection and WebSocket modes.
 */
export class FaultBook {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    const now = Date.now();
    const windowed = spec.forMs !== undefined;
    const defaultCount = MODE_FAULTS.has(spec.kind) || windowed ? Infinity : 1;

    this.faults.push({
      spec,
      remaining: spec.count ?? defaultCount,
      until: windowed ? now + (spec.forMs as number) : Infinity,
    });
  }

  clear(): void {
    this.faults = [];
  }

  list(): FaultSpec[] {
    this.dropExpired();
    return this.faults.map((fault) => fault.spec);
  }

  /**
   * Returns the first fault among `kinds` that applies to a request for `path`, counting the
   * request against it.
   */
  take(kinds: ReadonlySet<FaultKind>, path: string): FaultSpec | undefined {
    this.dropExpired();

    const fault = this.faults.find(
      (candidate) =>
        kinds.has(candidate.spec.kind) &&
        (candidate.spec.path === undefined || path.startsWith(candidate.spec.path)),
    );
    if (fault === undefined) {
      return undefined;
    }

    fault.remaining -= 1;
    return fault.spec;
  }

  /** Returns whether a fault of `kind` applies right now, without counting anything. */
  isActive(kind: FaultKind): boolean {
    this.dropExpired();
    return this.faults.some((fault) => fault.spec.kind === kind);
  }

  private dropExpired(): void {
    const now = Date.now();
    this.faults = this.faults.filter((fault) => fault.remaining > 0 && fault.until > now);
  }
}
