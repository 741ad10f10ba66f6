import { describe, expect, it } from 'vitest';
import { lineChart, niceCeiling } from './svg-chart';

const T0 = Date.UTC(2026, 10, 2, 9, 0);
const MIN = 60_000;

describe('lineChart', () => {
  const chart = lineChart({
    id: 'lag-ingest',
    title: 'ingest: consumer lag',
    description: 'Messages waiting over the last hour',
    unit: 'messages',
    from: T0,
    to: T0 + 60 * MIN,
    series: [
      {
        name: 'lag',
        points: [
          { at: T0 + 10 * MIN, value: 4 },
          { at: T0 + 20 * MIN, value: 8 },
          { at: T0 + 30 * MIN, value: null },
          { at: T0 + 40 * MIN, value: 2 },
        ],
      },
      { name: '<script>alert(1)</script>', points: [{ at: T0 + 10 * MIN, value: 1 }] },
    ],
  }).markup;

  it('is an image with a title and description screen readers read', () => {
    expect(chart).toMatch(
      /<svg[^>]*role="img"[^>]*aria-labelledby="lag-ingest-title lag-ingest-desc"/,
    );
    expect(chart).toContain('<title id="lag-ingest-title">ingest: consumer lag</title>');
    expect(chart).toContain(
      '<desc id="lag-ingest-desc">Messages waiting over the last hour</desc>',
    );
  });

  it('draws a line per run of known values, breaking at a gap, and a dot for a lone point', () => {
    expect(chart.match(/<polyline/g)).toHaveLength(1);
    // The lone point after the gap and the second series' single point.
    expect(chart.match(/<circle/g)).toHaveLength(2);
    expect(chart).toContain('data-points="4"');
    // 10 is the top (a round ceiling over 8); 10 and 20 minutes into the hour.
    expect(chart).toContain('points="151.3,111.2 246.7,50.4"');
  });

  it('repeats the figures in a table, and writes names as text', () => {
    expect(chart).toContain('<th scope="col">Time (UTC)</th>');
    expect(chart).toMatch(/<th scope="row">09:30:00<\/th>\s*<td>—<\/td>/);
    expect(chart).not.toContain('<script>');
    expect(chart).toContain('&lt;script&gt;');
  });

  it('says so when there are no samples yet', () => {
    const empty = lineChart({
      id: 'e',
      title: 'empty',
      description: 'd',
      unit: 'u',
      from: T0,
      to: T0 + MIN,
      series: [{ name: 'x', points: [] }],
    }).markup;
    expect(empty).toContain('No samples yet.');
    expect(empty).toContain('data-points="0"');
  });
});

describe('niceCeiling', () => {
  it.each([
    [0, 1],
    [0.3, 0.5],
    [1, 1],
    [7, 10],
    [12, 20],
    [180, 200],
    [501, 1000],
  ])('%d -> %d', (max, top) => expect(niceCeiling(max)).toBeCloseTo(top));
});
