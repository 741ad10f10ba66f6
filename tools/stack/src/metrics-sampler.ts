/** One sample line of a Prometheus text page. */
export interface MetricSample {
  name: string;
  labels: string;
  value: number;
}

/**
 * The samples of a Prometheus text exposition page (comments and malformed
 * lines skipped). Label values are kept as written; only the name and the
 * value matter to the sampler.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (Number.isNaN(value)) continue;
    const close = brace >= 0 ? line.lastIndexOf('}') : -1;
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const labels = close > brace && brace >= 0 ? line.slice(brace + 1, close) : '';
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The highest value each sample name reached, over every series, scrape and service. */
export type MetricPeaks = Record<string, number>;

/** Folds one page's samples into `peaks`. */
export function foldPeaks(peaks: MetricPeaks, samples: readonly MetricSample[]): MetricPeaks {
  for (const { name, value } of samples) {
    const seen = peaks[name];
    if (seen === undefined || value > seen) peaks[name] = value;
  }
  return peaks;
}

/** What {@link MetricsSampler} reads. */
export interface MetricsSamplerOptions {
  /** Service name to its `/metrics` URL. */
  endpoints: Readonly<Record<string, string>>;
  intervalMs: number;
  /** Longest one scrape may take. */
  timeoutMs: number;
}

/**
 * Scrapes every service's /metrics on an interval and keeps each sample
 * name's peak, so a run's report shows which metric families carried values
 * (lag while the batch queued, limiter queues, retries ...). A service that
 * does not answer a scrape is counted, not fatal.
 */
export class MetricsSampler {
  private readonly peaks: MetricPeaks = {};
  private readonly failures: Record<string, number> = {};
  private scrapes = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: MetricsSamplerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.inFlight = this.inFlight.then(() => this.sample());
    }, this.options.intervalMs);
  }

  /** Stops sampling after one last scrape and reports. */
  async stop(): Promise<{ scrapes: number; failures: Record<string, number>; peaks: MetricPeaks }> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.sample();
    return { scrapes: this.scrapes, failures: this.failures, peaks: this.peaks };
  }

  private async sample(): Promise<void> {
    this.scrapes += 1;
    await Promise.all(
      Object.entries(this.options.endpoints).map(async ([service, url]) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          foldPeaks(this.peaks, parsePrometheusText(await res.text()));
        } catch {
          this.failures[service] = (this.failures[service] ?? 0) + 1;
        }
      }),
    );
  }
}
