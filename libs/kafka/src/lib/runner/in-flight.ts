import type { MemoryMode } from './memory-guard';

/** Ends one admitted message's stay in flight; calling it twice is harmless. */
export type Release = () => void;

interface Waiter {
  bytes: number;
  admit: (release: Release) => void;
  fail: (err: unknown) => void;
}

/**
 * Admission of messages into handling, and the count of what is in flight
 * (raw bytes of key and value, and messages). It is what makes the memory of
 * handling a bound rather than a product of concurrency settings:
 * - running: a message starts while the bytes in flight stay within
 *   `maxInFlightBytes` (one message is always admitted when nothing is in
 *   flight, so a single large message never waits forever);
 * - trickle: a message starts only when nothing else is in flight;
 * - paused: nothing starts; messages already started finish.
 * Waiters are admitted in arrival order, so a large message is not starved by
 * small ones behind it.
 */
export class InFlight {
  private inFlightBytes = 0;
  private inFlightMessages = 0;
  private mode: MemoryMode = 'running';
  private readonly waiters: Waiter[] = [];

  constructor(private readonly maxInFlightBytes: number) {}

  /** Raw bytes of the messages being handled. */
  get bytes(): number {
    return this.inFlightBytes;
  }

  /** Messages being handled. */
  get messages(): number {
    return this.inFlightMessages;
  }

  /** Messages waiting for admission. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Follows the memory guard's mode; waiters are admitted at once when it allows. */
  setMode(mode: MemoryMode): void {
    this.mode = mode;
    this.pump();
  }

  /**
   * Waits until a message of `bytes` may start and counts it in flight. Rejects
   * with the signal's reason when `signal` aborts first (the runner stops).
   */
  admit(bytes: number, signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.waiters.length === 0 && this.allows(bytes)) return Promise.resolve(this.enter(bytes));
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason as Error);
        this.pump();
      };
      const waiter: Waiter = {
        bytes,
        admit: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: reject,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private allows(bytes: number): boolean {
    if (this.mode === 'paused') return false;
    if (this.inFlightMessages === 0) return true;
    if (this.mode === 'trickle') return false;
    return this.inFlightBytes + bytes <= this.maxInFlightBytes;
  }

  private enter(bytes: number): Release {
    this.inFlightBytes += bytes;
    this.inFlightMessages += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlightBytes -= bytes;
      this.inFlightMessages -= 1;
      this.pump();
    };
  }

  private pump(): void {
    for (;;) {
      const next = this.waiters[0];
      if (!next || !this.allows(next.bytes)) return;
      this.waiters.shift();
      next.admit(this.enter(next.bytes));
    }
  }
}
