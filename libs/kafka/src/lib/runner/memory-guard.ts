/** Resident set size of the process, in bytes; injectable so tests can simulate pressure. */
export type RssProbe = () => number;

/** The default probe: the process's real RSS. */
export const processRss: RssProbe = () => process.memoryUsage.rss();

/** What the guard wants the consumer to do after a check. */
export type MemoryDecision = 'pause' | 'resume' | 'none';

/**
 * Hysteresis between two watermarks: pause above the high one, resume only
 * below the low one, so a stage hovering near its limit does not flap.
 */
export class MemoryGuard {
  private paused = false;

  constructor(
    private readonly probe: RssProbe,
    private readonly pauseAboveBytes: number,
    private readonly resumeBelowBytes: number,
  ) {
    if (resumeBelowBytes > pauseAboveBytes) {
      throw new RangeError('resume watermark must not exceed the pause watermark');
    }
  }

  /** True while the guard holds consumption paused. */
  get engaged(): boolean {
    return this.paused;
  }

  /** Reads RSS and says whether to pause, resume, or leave things as they are. */
  check(): { decision: MemoryDecision; rssBytes: number } {
    const rssBytes = this.probe();
    if (!this.paused && rssBytes > this.pauseAboveBytes) {
      this.paused = true;
      return { decision: 'pause', rssBytes };
    }
    if (this.paused && rssBytes < this.resumeBelowBytes) {
      this.paused = false;
      return { decision: 'resume', rssBytes };
    }
    return { decision: 'none', rssBytes };
  }
}
