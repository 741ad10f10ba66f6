import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@grantstream/errors';
import type { StageRunnerConfig } from './fragments';
import { memoryBudgetOf, memoryBudgetProblems } from './memory-budget';
import { DEFAULT_CONFIG_FILE, loadGrantstreamConfig } from './stack';
import { stageRunnerConfig, stageRunnerOverridesSchema } from './stage';

const MiB = 1024 * 1024;
const defaults = loadGrantstreamConfig({}).runner;
const file = parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as Record<
  string,
  { runner?: unknown }
>;
const STAGES = [
  'ingest',
  'normalization',
  'routing',
  'submission',
  'statusPolling',
  'notification',
];
const runnerOf = (stage: string): StageRunnerConfig =>
  stageRunnerConfig(defaults, stageRunnerOverridesSchema.parse(file[stage]?.runner));

describe('memory budget', () => {
  it.each(STAGES)('%s: the configured worst case fits its budget', (stage) => {
    const c = runnerOf(stage);
    expect(memoryBudgetProblems(c)).toEqual([]);
    const b = memoryBudgetOf(c);
    expect(c.memory.baselineMb * MiB + b.inFlightBytes).toBeLessThanOrEqual(
      c.memory.pauseAboveRssMb * MiB,
    );
  });

  it('ingest: a 384 MB container, at most ~54 MB in flight', () => {
    const c = runnerOf('ingest');
    expect(c.memory.budgetMb).toBe(384);
    const b = memoryBudgetOf(c);
    expect(b.fetchedBytes).toBe(c.maxBytes + c.memory.maxInputRecordBytes);
    expect(b.inflatedBytes).toBe(c.memory.maxInflationRatio * b.fetchedBytes);
    // messageConcurrency 1 x 3 partitions x 1 MiB, under the 4 MiB gate.
    expect(b.handlingBytes).toBe(3 * MiB * c.memory.handlingBytesPerInputByte);
    expect(b.pendingBytes).toBe(3 * 2 * MiB * c.memory.pendingBytesPerInputByte);
    expect(b.inFlightBytes / MiB).toBeLessThan(60);
  });

  it('bounds handling by the admission gate when concurrency alone would not', () => {
    const c = runnerOf('submission');
    const b = memoryBudgetOf(c);
    const byConcurrency =
      c.partitionsConsumedConcurrently * c.messageConcurrency * c.memory.maxInputRecordBytes;
    expect(byConcurrency).toBeGreaterThan(c.memory.maxInFlightBytes);
    expect(b.handlingBytes).toBe(c.memory.maxInFlightBytes * c.memory.handlingBytesPerInputByte);
  });

  const ingest = () => runnerOf('ingest');
  it.each<[string, (c: StageRunnerConfig) => StageRunnerConfig, RegExp]>([
    [
      'fetches too large for the pause mark',
      (c) => ({ ...c, maxBytes: 64 * MiB }),
      /a full load in flight .* passes memory.pauseAboveRssMb/,
    ],
    [
      'a pause mark too close to the budget',
      (c) => ({ ...c, memory: { ...c.memory, pauseAboveRssMb: 370 } }),
      /work in flight when the guard pauses .* exceeds memory.budgetMb \(384\)/,
    ],
    [
      'a pause mark at the budget',
      (c) => ({ ...c, memory: { ...c.memory, pauseAboveRssMb: 384 } }),
      /must be below memory.budgetMb/,
    ],
    [
      'marks the wrong way round',
      (c) => ({ ...c, memory: { ...c.memory, resumeBelowRssMb: 300 } }),
      /resumeBelowRssMb \(300\) is above memory.pauseAboveRssMb/,
    ],
    [
      'a heap mark above the RSS mark',
      (c) => ({ ...c, memory: { ...c.memory, pauseAboveHeapMb: 300 } }),
      /pauseAboveHeapMb \(300\) is above/,
    ],
    [
      'an input bound below what our stages write',
      (c) => ({ ...c, memory: { ...c.memory, maxInputRecordBytes: 4096 } }),
      /maxInputRecordBytes \(4096\) is below maxRecordBytes/,
    ],
    [
      'concurrency that multiplies the inflation ratio past the mark',
      (c) => ({ ...c, memory: { ...c.memory, maxInflationRatio: 64 } }),
      /inflated 192.0 MB/,
    ],
  ])('refuses %s', (_name, change, problem) => {
    const problems = memoryBudgetProblems(change(ingest()));
    expect(problems.some((p) => problem.test(p))).toBe(true);
  });

  it('makes a stage refuse to start: stageRunnerConfig throws every problem at once', () => {
    const overrides = stageRunnerOverridesSchema.parse(file['ingest']?.runner);
    expect(() =>
      stageRunnerConfig(defaults, {
        ...overrides,
        maxBytes: 64 * MiB,
        memory: { pauseAboveRssMb: 384 },
      }),
    ).toThrow(ConfigError);
  });

  it('takes the memory settings a stage leaves out from the defaults', () => {
    const c = stageRunnerConfig(defaults, {
      groupId: 'g',
      transactionalIdPrefix: 'g',
      memory: { checkIntervalMs: 50 },
    });
    expect(c.memory).toEqual({ ...defaults.memory, checkIntervalMs: 50 });
  });
});
