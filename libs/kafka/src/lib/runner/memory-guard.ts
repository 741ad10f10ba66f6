/** Resident set size of the process, in bytes; injectable so tests can simulate pressure. */
export type RssProbe = () => number;

/** Live memory of the process in bytes (V8 heap in use plus external buffers); injectable like {@link RssProbe}. */
export type HeapProbe = () => number;

/** The default probe: the process's real RSS. */
export const processRss: RssProbe = () => process.memoryUsage.rss();

/**
 * The default heap probe: what JavaScript still references (heap in use) plus
 * Buffers outside the heap. Unlike RSS it falls as soon as work is collected,
 * so it tells retained-but-free pages from live data.
 */
export const processHeap: HeapProbe = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/**
 * What the guard lets through: everything (`running`), nothing new
 * (`paused`: in-flight work finishes, no message is started), or one message
 * at a time (`trickle`: RSS is still high, but holding work back would not
 * lower it).
 */
export type MemoryMode = 'running' | 'paused' | 'trickle';

/** Why the guard paused: RSS over its mark, or live heap over its mark. */
export type PauseCause = 'rss' | 'heap';

/**
 * How a pause or a trickle ended: memory fell below the resume marks
 * (`cleared`); nothing was in flight, so waiting could not lower it (`idle`);
 * the pause lasted maxPauseMs (`timeout`).
 */
export type PauseEnd = 'cleared' | 'idle' | 'timeout';

/** One reading of the process's memory and of the runner's work in flight. */
export interface MemoryReading {
  rssBytes: number;
  heapBytes: number;
  /** Raw bytes (key + value) of the messages being handled. */
  inFlightBytes: number;
  inFlightMessages: number;
  nowMs: number;
}

/** The guard's marks, in bytes and milliseconds. */
export interface MemoryLimits {
  pauseAboveRssBytes: number;
  resumeBelowRssBytes: number;
  pauseAboveHeapBytes: number;
  /** Longest a pause lasts while work is in flight or the heap stays high; then the guard trickles. */
  maxPauseMs: number;
}

/** Where the guard is: its mode, since when, and why it paused. */
export interface MemoryState {
  mode: MemoryMode;
  sinceMs: number;
  cause: PauseCause | null;
}

/** What changed at a check. */
export type MemoryTransition =
  | { kind: 'none' }
  | { kind: 'pause'; cause: PauseCause; from: 'running' | 'trickle' }
  | {
      kind: 'resume';
      from: 'paused' | 'trickle';
      to: 'running' | 'trickle';
      ended: PauseEnd;
      /** How long the mode that ended lasted. */
      lastedMs: number;
    };

/** The guard's state before any pressure. */
export const RUNNING: MemoryState = { mode: 'running', sinceMs: 0, cause: null };

/**
 * The guard's decision, pure. RSS is what a container is killed for, but
 * after a burst V8 and the allocator keep freed pages, so RSS can stay above
 * any resume mark with nothing left to free: a guard that waits for it never
 * resumes. Hence:
 * - running: RSS or heap over its pause mark pauses (heap named first: live
 *   data is the more specific cause).
 * - paused: both below their marks resumes. With nothing in flight and the
 *   heap below its mark, what keeps RSS high is free pages that new work
 *   reuses: trickle at once (`idle`). Otherwise wait, at most maxPauseMs
 *   (`timeout`), then trickle: one message at a time cannot grow memory by
 *   more than one message, and a stage that stops for good loses more.
 * - trickle: both below their marks resumes fully; heap over its mark with
 *   work in flight pauses again.
 */
export function decideMemory(
  state: MemoryState,
  reading: MemoryReading,
  limits: MemoryLimits,
): { state: MemoryState; transition: MemoryTransition } {
  const heapHigh = reading.heapBytes > limits.pauseAboveHeapBytes;
  const rssHigh = reading.rssBytes > limits.pauseAboveRssBytes;
  const cleared = reading.rssBytes < limits.resumeBelowRssBytes && !heapHigh;
  const lastedMs = Math.max(0, reading.nowMs - state.sinceMs);
  const none = { state, transition: { kind: 'none' } as const };
  const to = (mode: MemoryMode, cause: PauseCause | null = null): MemoryState => ({
    mode,
    sinceMs: reading.nowMs,
    cause,
  });
  switch (state.mode) {
    case 'running': {
      if (!heapHigh && !rssHigh) return none;
      const cause: PauseCause = heapHigh ? 'heap' : 'rss';
      return { state: to('paused', cause), transition: { kind: 'pause', cause, from: 'running' } };
    }
    case 'paused': {
      if (cleared)
        return {
          state: to('running'),
          transition: { kind: 'resume', from: 'paused', to: 'running', ended: 'cleared', lastedMs },
        };
      const ended: PauseEnd | null =
        reading.inFlightMessages === 0 && !heapHigh
          ? 'idle'
          : lastedMs >= limits.maxPauseMs
            ? 'timeout'
            : null;
      if (ended === null) return none;
      return {
        state: to('trickle', state.cause),
        transition: { kind: 'resume', from: 'paused', to: 'trickle', ended, lastedMs },
      };
    }
    case 'trickle': {
      if (cleared)
        return {
          state: to('running'),
          transition: {
            kind: 'resume',
            from: 'trickle',
            to: 'running',
            ended: 'cleared',
            lastedMs,
          },
        };
      if (heapHigh && reading.inFlightMessages > 0)
        return {
          state: to('paused', 'heap'),
          transition: { kind: 'pause', cause: 'heap', from: 'trickle' },
        };
      return none;
    }
  }
}

/** What a {@link MemoryGuard} check read and decided. */
export interface MemoryCheck {
  transition: MemoryTransition;
  state: MemoryState;
  reading: MemoryReading;
}

/**
 * The stateful side of {@link decideMemory}: reads the probes and the work in
 * flight, keeps the state between checks.
 */
export class MemoryGuard {
  private current: MemoryState = RUNNING;

  constructor(
    private readonly probes: { rss: RssProbe; heap: HeapProbe },
    private readonly limits: MemoryLimits,
    private readonly inFlight: () => { bytes: number; messages: number },
    private readonly clock: () => number = Date.now,
  ) {
    if (limits.resumeBelowRssBytes > limits.pauseAboveRssBytes) {
      throw new RangeError('resume watermark must not exceed the pause watermark');
    }
  }

  /** True while the guard holds consumption paused (not while it trickles). */
  get engaged(): boolean {
    return this.current.mode === 'paused';
  }

  /** The guard's mode. */
  get mode(): MemoryMode {
    return this.current.mode;
  }

  /** Reads memory and work in flight, and says what changed. */
  check(): MemoryCheck {
    const work = this.inFlight();
    const reading: MemoryReading = {
      rssBytes: this.probes.rss(),
      heapBytes: this.probes.heap(),
      inFlightBytes: work.bytes,
      inFlightMessages: work.messages,
      nowMs: this.clock(),
    };
    const { state, transition } = decideMemory(this.current, reading, this.limits);
    this.current = state;
    return { transition, state, reading };
  }
}
