import { html, type SafeHtml } from '../http/html';

/** One point of a series: when, and the value then (null: unknown, a gap in the line). */
export interface ChartPoint {
  at: number;
  value: number | null;
}

/** One line of a chart. */
export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
}

/** A line chart over a time window. */
export interface LineChartSpec {
  /** Unique on the page: the chart's title, description and table are named by it. */
  id: string;
  title: string;
  /** What the chart shows, read out by screen readers with the title. */
  description: string;
  /** The values' unit, on the axis and in the table header ("messages", "calls/s"). */
  unit: string;
  series: readonly ChartSeries[];
  /** The time window shown (epoch ms). */
  from: number;
  to: number;
}

const WIDTH = 640;
const HEIGHT = 200;
const LEFT = 56;
const RIGHT = 12;
const TOP = 20;
const BOTTOM = 28;
/**
 * Line colours with at least 4.5:1 contrast on white, each with its own
 * dash pattern, so no line is told apart by colour alone.
 */
const STYLES: readonly { color: string; dash: string }[] = [
  { color: '#1d4ed8', dash: '' },
  { color: '#b00020', dash: '6 3' },
  { color: '#0b6b2f', dash: '2 3' },
  { color: '#6b21a8', dash: '8 3 2 3' },
  { color: '#92400e', dash: '12 4' },
  { color: '#0e6377', dash: '4 2 1 2' },
  { color: '#111111', dash: '1 2' },
  { color: '#9d174d', dash: '10 2 2 2 2 2' },
];

/** The style of the series at `index` (shared by the line and its legend swatch). */
export function seriesStyle(index: number): { color: string; dash: string } {
  return STYLES[index % STYLES.length] ?? { color: '#111111', dash: '' };
}

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const number = (v: number | null): string =>
  v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(2);

/**
 * A line chart as inline SVG, drawn on the server (no script): role="img"
 * with a title and description, axis labels, a legend that repeats each
 * line's colour and dash, and the same figures as a table in a disclosure
 * for those who would rather read, or cannot see the lines.
 */
export function lineChart(spec: LineChartSpec): SafeHtml {
  const span = Math.max(1, spec.to - spec.from);
  const values = spec.series.flatMap((s) =>
    s.points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v)),
  );
  const top = niceCeiling(values.length === 0 ? 0 : Math.max(...values));
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (at: number) => LEFT + ((at - spec.from) / span) * plotW;
  const y = (v: number) => TOP + plotH - (v / top) * plotH;
  const fmt = (n: number) => n.toFixed(1);
  const lines = spec.series.map((s, i) => {
    const style = seriesStyle(i);
    // A gap (null) breaks the line: it never joins points across an unknown.
    const runs: ChartPoint[][] = [[]];
    for (const p of s.points) {
      if (p.value === null || !Number.isFinite(p.value) || p.at < spec.from || p.at > spec.to) {
        if ((runs[runs.length - 1] ?? []).length > 0) runs.push([]);
      } else runs[runs.length - 1]?.push(p);
    }
    return runs
      .filter((r) => r.length > 0)
      .map((r) =>
        r.length === 1
          ? html`<circle
              cx="${fmt(x(r[0]?.at ?? 0))}"
              cy="${fmt(y(r[0]?.value ?? 0))}"
              r="3"
              fill="${style.color}"
              data-series="${s.name}"
            />`
          : html`<polyline
              points="${r.map((p) => `${fmt(x(p.at))},${fmt(y(p.value ?? 0))}`).join(' ')}"
              fill="none"
              stroke="${style.color}"
              stroke-width="2"
              ${style.dash === '' ? '' : html`stroke-dasharray="${style.dash}"`}
              data-series="${s.name}"
            />`,
      );
  });
  const times = [...new Set(spec.series.flatMap((s) => s.points.map((p) => p.at)))].sort(
    (a, b) => a - b,
  );
  const valueAt = (s: ChartSeries, at: number) => s.points.find((p) => p.at === at)?.value ?? null;
  const points = spec.series.reduce(
    (n, s) => n + s.points.filter((p) => p.value !== null).length,
    0,
  );
  return html`<figure class="chart" id="${spec.id}" data-points="${points}">
    <svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-labelledby="${spec.id}-title ${spec.id}-desc"
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id="${spec.id}-title">${spec.title}</title>
      <desc id="${spec.id}-desc">${spec.description}</desc>
      ${[0, 0.5, 1].map(
        (f) =>
          html`<line
              x1="${LEFT}"
              x2="${WIDTH - RIGHT}"
              y1="${fmt(y(top * f))}"
              y2="${fmt(y(top * f))}"
              stroke="#767676"
              stroke-width="${f === 0 ? 1.5 : 0.5}"
            />
            <text
              x="${LEFT - 6}"
              y="${fmt(y(top * f) + 4)}"
              text-anchor="end"
              font-size="12"
              fill="#111"
            >
              ${number(top * f)}
            </text>`,
      )}
      <text x="${LEFT + 4}" y="${TOP - 6}" font-size="12" fill="#333">${spec.unit}</text>
      ${[0, 0.5, 1].map(
        (f) =>
          html`<text
            x="${fmt(LEFT + f * plotW)}"
            y="${HEIGHT - 8}"
            text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}"
            font-size="12"
            fill="#111"
          >
            ${clock(spec.from + f * span)}
          </text>`,
      )}
      ${lines}
    </svg>
    <figcaption>
      <span class="chart-title">${spec.title}</span>
      <ul class="legend">
        ${spec.series.map((s, i) => {
          const style = seriesStyle(i);
          return html`<li>
            <svg width="28" height="10" aria-hidden="true">
              <line
                x1="0"
                x2="28"
                y1="5"
                y2="5"
                stroke="${style.color}"
                stroke-width="3"
                ${style.dash === '' ? '' : html`stroke-dasharray="${style.dash}"`}
              />
            </svg>
            ${s.name}
          </li>`;
        })}
      </ul>
      ${values.length === 0 ? html`<p class="note">No samples yet.</p>` : ''}
    </figcaption>
    <details id="${spec.id}-data">
      <summary>Data table: ${spec.title}</summary>
      <table>
        <caption>
          ${spec.title} (${spec.unit}), times in UTC
        </caption>
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            ${spec.series.map((s) => html`<th scope="col">${s.name}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${times.map(
            (at) =>
              html`<tr>
                <th scope="row">${new Date(at).toISOString().slice(11, 19)}</th>
                ${spec.series.map((s) => html`<td>${number(valueAt(s, at))}</td>`)}
              </tr>`,
          )}
        </tbody>
      </table>
    </details>
  </figure>`;
}
