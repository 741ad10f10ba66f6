import type { FunderAdapter, SubmitRequest } from './funder-adapter';
import type {
  CircuitOpenOutcome,
  LookupOutcome,
  PortalOutcome,
  StatusOutcome,
  SubmitOutcome,
} from './outcomes';

/**
 * State of a funder's circuit, for metrics: `closed` lets calls through,
 * `open` refuses them without touching the network, `half_open` lets one
 * probe call through to decide which of the two comes next.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** A transition of a funder's circuit, as given to state-change listeners. */
export interface CircuitStateChange {
  funderId: string;
  from: CircuitState;
  to: CircuitState;
  /** When the transition was observed, by the guard's clock (epoch milliseconds). */
  atMs: number;
}

/** Receives every {@link CircuitStateChange}; must not throw (see {@link FunderGuard.onStateChange}). */
export type CircuitStateListener = (change: CircuitStateChange) => void;

/** When a funder's circuit opens and when it tries again. */
export interface CircuitSettings {
  /** Consecutive transient or timed-out outcomes that open the circuit. */
  consecutiveFailures: number;
  /** How long the circuit stays open before a probe call is let through. */
  halfOpenAfterMs: number;
}

/** What a {@link FunderGuard} is built from. */
export interface FunderGuardOptions {
  funderId: string;
  circuit: CircuitSettings;
  /** Epoch milliseconds; injected so tests can step time. Defaults to Date.now. */
  now?: () => number;
}

/** A {@link FunderAdapter} whose calls pass through a {@link FunderGuard}. */
export interface GuardedFunderAdapter {
  readonly funderId: string;
  /** As {@link FunderAdapter.submit}, or `circuit_open` without a call. */
  submit(request: SubmitRequest, signal?: AbortSignal): Promise<SubmitOutcome | CircuitOpenOutcome>;
  /** As {@link FunderAdapter.status}, or `circuit_open` without a call. */
  status(trackingNumber: string, signal?: AbortSignal): Promise<StatusOutcome | CircuitOpenOutcome>;
  /** As {@link FunderAdapter.lookup}, or `circuit_open` without a call. */
  lookup(idempotencyKey: string, signal?: AbortSignal): Promise<LookupOutcome | CircuitOpenOutcome>;
}

/**
 * True for the outcomes that say the portal is unwell (5xx, network error,
 * timeout). Every other answer, a 429 or a rejection included, shows the
 * portal up and answering, so it counts as a success for the circuit.
 */
export function isPortalFailure(outcome: PortalOutcome): boolean {
  return outcome.kind === 'transient' || outcome.kind === 'timed_out';
}

/**
 * A per-funder circuit breaker, so a failing portal costs its own grants a
 * short-circuited call instead of a timeout each, and costs other funders
 * nothing. It counts outcomes rather than exceptions, because adapters return
 * every expected portal answer.
 *
 * Opens after `consecutiveFailures` failing outcomes in a row; after
 * `halfOpenAfterMs` lets a single probe through (other calls meanwhile still
 * get `circuit_open`); the probe's success closes the circuit, its failure
 * opens it for another `halfOpenAfterMs`. The open -> half_open transition is
 * observed on the next call or state read, so no timer keeps a process alive.
 * A call that began before the circuit opened does not change it when it
 * ends: only calls admitted while closed, and the probe, are counted.
 */
export class FunderGuard {
  readonly funderId: string;
  private readonly consecutiveFailures: number;
  private readonly halfOpenAfterMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<CircuitStateListener>();
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAtMs = 0;
  private probing = false;

  constructor(options: FunderGuardOptions) {
    const { consecutiveFailures, halfOpenAfterMs } = options.circuit;
    if (!Number.isSafeInteger(consecutiveFailures) || consecutiveFailures < 1) {
      throw new RangeError(
        `consecutiveFailures must be a positive integer, got ${consecutiveFailures}`,
      );
    }
    if (!Number.isFinite(halfOpenAfterMs) || halfOpenAfterMs < 0) {
      throw new RangeError(
        `halfOpenAfterMs must be finite and non-negative, got ${halfOpenAfterMs}`,
      );
    }
    this.funderId = options.funderId;
    this.consecutiveFailures = consecutiveFailures;
    this.halfOpenAfterMs = halfOpenAfterMs;
    this.now = options.now ?? Date.now;
  }

  /** The circuit's state now (an open circuit whose delay has passed reads as half_open). */
  get state(): CircuitState {
    this.refresh();
    return this.current;
  }

  /**
   * When the circuit lets its next probe call through, by the guard's clock
   * (epoch milliseconds): the end of the open delay while open, now while
   * half open (the next call is the probe), null while closed.
   */
  get nextProbeAtMs(): number | null {
    this.refresh();
    if (this.current === 'closed') return null;
    return this.current === 'open' ? this.openedAtMs + this.halfOpenAfterMs : this.now();
  }

  /**
   * Registers a listener for state changes (metrics, logs); returns the
   * unsubscribe function. A listener that throws does not lose the outcome of
   * the call that caused the transition: its error is rethrown on a later
   * microtask, where it surfaces as an uncaught exception (a bug to fix).
   */
  onStateChange(listener: CircuitStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Makes `call` unless the circuit refuses it, and records its outcome. An
   * exception from `call` (the caller's abort, a bug) is rethrown and not
   * counted either way: it says nothing about the portal.
   */
  async run<O extends PortalOutcome>(call: () => Promise<O>): Promise<O | CircuitOpenOutcome> {
    this.refresh();
    if (this.current === 'open') {
      return {
        kind: 'circuit_open',
        retryAfterMs: Math.max(0, this.openedAtMs + this.halfOpenAfterMs - this.now()),
      };
    }
    const isProbe = this.current === 'half_open';
    if (isProbe) {
      // One probe at a time: a struggling portal gets one call, not the whole backlog at once.
      if (this.probing) return { kind: 'circuit_open', retryAfterMs: this.halfOpenAfterMs };
      this.probing = true;
    }
    let outcome: O;
    try {
      outcome = await call();
    } finally {
      if (isProbe) this.probing = false;
    }
    if (isProbe) this.recordProbe(outcome);
    else this.recordClosed(outcome);
    return outcome;
  }

  /** Wraps an adapter so each of its calls goes through {@link FunderGuard.run}. */
  wrap(adapter: FunderAdapter): GuardedFunderAdapter {
    return {
      funderId: adapter.funderId,
      submit: (request, signal) => this.run(() => adapter.submit(request, signal)),
      status: (trackingNumber, signal) => this.run(() => adapter.status(trackingNumber, signal)),
      lookup: (idempotencyKey, signal) => this.run(() => adapter.lookup(idempotencyKey, signal)),
    };
  }

  private recordClosed(outcome: PortalOutcome): void {
    if (this.current !== 'closed') return;
    if (!isPortalFailure(outcome)) {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    if (this.failures >= this.consecutiveFailures) this.open();
  }

  private recordProbe(outcome: PortalOutcome): void {
    if (this.current !== 'half_open') return;
    if (isPortalFailure(outcome)) {
      this.open();
    } else {
      this.failures = 0;
      this.transition('closed');
    }
  }

  private open(): void {
    this.openedAtMs = this.now();
    this.failures = 0;
    this.transition('open');
  }

  private refresh(): void {
    if (this.current === 'open' && this.now() - this.openedAtMs >= this.halfOpenAfterMs) {
      this.transition('half_open');
    }
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const change: CircuitStateChange = { funderId: this.funderId, from, to, atMs: this.now() };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
