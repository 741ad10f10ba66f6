/** One sample of a Prometheus text exposition: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Reads the samples of a Prometheus text exposition (what prom-client
 * serves on /metrics); comments and lines that are not samples are skipped,
 * values that are not numbers (NaN) are kept as NaN.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of every sample of `name` (over all label sets); null when there is none. */
export function sumOf(samples: readonly Sample[], name: string): number | null {
  const found = samples.filter((s) => s.name === name && Number.isFinite(s.value));
  return found.length === 0 ? null : found.reduce((a, s) => a + s.value, 0);
}
