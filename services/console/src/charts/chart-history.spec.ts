import { describe, expect, it } from 'vitest';
import { ChartHistory, type ChartTick } from './chart-history';

const tick = (at: number, lag: number, nsfReceived: number): ChartTick => ({
  at,
  stages: [{ stage: 'submission', lag, in: lag / 2, out: null }],
  funders: [{ funderId: 'NSF', callsPerSecond: lag, limit: 20 }],
  states: [
    { funderId: 'NSF', state: 'RECEIVED', grants: nsfReceived },
    ...(at >= 3000 ? [{ funderId: 'NSF', state: 'RETRY', grants: 1 }] : []),
    { funderId: 'BCF', state: 'FORWARD', grants: 9 },
  ],
});

describe('ChartHistory', () => {
  it('keeps one sample per interval, the last maxSamples of them', () => {
    const h = new ChartHistory({ sampleIntervalMs: 1000, maxSamples: 3 });
    expect(h.record(tick(0, 1, 1))).toBe(true);
    expect(h.record(tick(500, 2, 1))).toBe(false);
    for (const at of [1000, 2000, 3000]) h.record(tick(at, at / 1000 + 1, at / 1000));
    expect(h.stageLag('submission')[0]?.points).toEqual([
      { at: 1000, value: 2 },
      { at: 2000, value: 3 },
      { at: 3000, value: 4 },
    ]);
    expect(h.window(3000)).toEqual({ from: 0, to: 3000 });
    expect(h.stages()).toEqual(['submission']);
  });

  it('gives a stage its throughput and a funder its calls against the limit and its grants by state', () => {
    const h = new ChartHistory({ sampleIntervalMs: 1000, maxSamples: 10 });
    for (const at of [1000, 2000, 3000]) h.record(tick(at, at / 1000, at / 1000));
    expect(
      h.stageThroughput('submission').map((s) => [s.name, s.points.map((p) => p.value)]),
    ).toEqual([
      ['in per second', [0.5, 1, 1.5]],
      ['out per second', [null, null, null]],
    ]);
    expect(h.funderCalls('NSF').map((s) => s.points.map((p) => p.value))).toEqual([
      [1, 2, 3],
      [20, 20, 20],
    ]);
    // RETRY appears in the last sample only: before it, none were in that state.
    expect(h.funderStates('NSF').map((s) => [s.name, s.points.map((p) => p.value)])).toEqual([
      ['RECEIVED', [1, 2, 3]],
      ['RETRY', [0, 0, 1]],
    ]);
    expect(h.funderCalls('XYZ')[0]?.points.every((p) => p.value === null)).toBe(true);
  });
});
