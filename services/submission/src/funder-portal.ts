import type {
  CircuitOpenOutcome,
  FunderClientConfig,
  FunderGuard,
  GuardedFunderAdapter,
  LookupOutcome,
  SubmitRequest,
} from '@grantstream/funders';
import type { AttemptOutcome, ThrottledOutcome } from './domain/attempt-decision';

/** A per-funder limiter as the portal needs it: run the call, or say at once that there is no room. */
export interface CallLimiter {
  schedule<T>(
    call: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<{ kind: 'ran'; value: T } | { kind: 'throttled' }>;
  /** Calls queued and running in this process, for metrics. */
  counts(): { queued: number; running: number };
  close(): Promise<void>;
}

/** Every answer a lookup by idempotency key can end with, our own refusals included. */
export type LookupAttemptOutcome = LookupOutcome | CircuitOpenOutcome | ThrottledOutcome;

/**
 * One funder's portal as the submission stage calls it: the limiter first (so
 * a full limiter costs nothing at the portal), then the circuit (an open one
 * answers without a call and without a limiter slot), then the adapter.
 */
export class FunderPortal {
  constructor(
    readonly funderId: string,
    readonly config: FunderClientConfig,
    private readonly guard: FunderGuard,
    private readonly adapter: GuardedFunderAdapter,
    private readonly limiter: CallLimiter,
  ) {}

  /** The circuit's state, for metrics. */
  get circuitState(): FunderGuard['state'] {
    return this.guard.state;
  }

  /** When the circuit lets its next probe through (epoch ms), null while closed; for metrics. */
  get circuitNextProbeAtMs(): number | null {
    return this.guard.nextProbeAtMs;
  }

  /** Files `request`, or says why it was not filed. */
  async submit(request: SubmitRequest, signal?: AbortSignal): Promise<AttemptOutcome> {
    return this.limited((s) => this.adapter.submit(request, s), signal);
  }

  /** Asks the portal whether a submission with this key exists (after a timeout). */
  async lookup(idempotencyKey: string, signal?: AbortSignal): Promise<LookupAttemptOutcome> {
    return this.limited((s) => this.adapter.lookup(idempotencyKey, s), signal);
  }

  /** Calls queued and running for this funder in this process. */
  counts(): { queued: number; running: number } {
    return this.limiter.counts();
  }

  /** Releases the limiter's connection. */
  async close(): Promise<void> {
    await this.limiter.close();
  }

  private async limited<O>(
    call: (signal?: AbortSignal) => Promise<O | CircuitOpenOutcome>,
    signal?: AbortSignal,
  ): Promise<O | CircuitOpenOutcome | ThrottledOutcome> {
    if (this.guard.state === 'open') {
      // Ask the guard, which knows when it half-opens; it makes no call while open.
      return call(signal);
    }
    const ran = await this.limiter.schedule(() => call(signal), signal);
    return ran.kind === 'ran' ? ran.value : { kind: 'throttled' };
  }
}
