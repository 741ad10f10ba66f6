// Guarantee: an auditor replays the audit topic from offset 0 without a
// consumer group: 100,000 events stream through `grantctl audit replay` in
// bounded memory (peak RSS reported), every filter returns exactly the
// expected events, and no consumer group or committed offset is created.
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '@grantstream/contracts';
import { createKafka, type PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  runTs,
  testClients,
  testConfig,
  testLogger,
  LIFE,
  chainFor,
  createAuditTopic,
  produceEvents,
} from '@grantstream/testing';

const GRANTS = 20_000;
const STEPS = LIFE.length;
const FUNDERS = ['NSF', 'GATES', 'CADOE'];
const T0 = Date.UTC(2026, 0, 1);
const MAX_PEAK_RSS_MB = 300;
/**
 * The replay runs with V8's old generation capped this low: a replay whose
 * memory grew with the topic would die of heap exhaustion long before 100,000
 * events (V8 otherwise grows its heap lazily, so RSS alone says little).
 */
const HEAP_CAP_MB = 64;

describe('audit replay', () => {
  let clients: PlatformClients;
  let topic: string;
  let small: string;
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  const all: AuditEventV1[] = [];

  beforeAll(async () => {
    clients = await testClients();
    topic = await createAuditTopic(clients, 'replay');
    const events = [];
    for (let g = 0; g < GRANTS; g += 1) {
      const grant = `${FUNDERS[g % FUNDERS.length]}-2026-${String(g).padStart(6, '0')}`;
      events.push(...chainFor(grant, STEPS, T0 + g * 60_000));
    }
    all.push(...events.map((e) => e.event));
    await produceEvents(clients, topic, events);
    small = await createAuditTopic(clients, 'replay-small');
    await produceEvents(clients, small, events.slice(0, 500));
  }, 300_000);
  afterAll(() => clients.close());

  async function replay(...args: string[]): Promise<{ lines: string[]; stderr: string }> {
    return replayOf(topic, ...args);
  }

  async function replayOf(
    from: string,
    ...args: string[]
  ): Promise<{ lines: string[]; stderr: string }> {
    const out = join(dir, `r-${Math.random().toString(36).slice(2)}.jsonl`);
    const r = await runTs(
      ENTRY.grantctl,
      ['audit', 'replay', '--topic', from, '--out', out, ...args],
      { timeoutMs: 300_000, env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` } },
    );
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    return { lines: text.split('\n').filter(Boolean), stderr: r.stderr };
  }

  it(
    `streams ${GRANTS * STEPS} events in bounded memory and leaves no consumer group`,
    { timeout: 300_000 },
    async () => {
      const admin = createKafka(testConfig().kafka, testLogger()).admin();
      await admin.connect();
      const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId).sort();

      const peakOf = (stderr: string) => Number(/peak RSS (\d+) MB/.exec(stderr)?.[1]);
      const baseline = await replayOf(small);
      expect(baseline.lines).toHaveLength(500);
      const { lines, stderr } = await replay();
      expect(lines).toHaveLength(GRANTS * STEPS);
      const peak = peakOf(stderr);
      process.stdout.write(
        `audit replay (old-space cap ${HEAP_CAP_MB} MB): ${stderr.trim()}; a 500-event replay peaked at ${peakOf(baseline.stderr)} MB\n`,
      );
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThan(MAX_PEAK_RSS_MB);
      const first = JSON.parse(lines[0] ?? '{}') as AuditEventV1;
      expect(all.some((e) => e.event_id === first.event_id)).toBe(true);

      const groupsAfter = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
      expect(groupsAfter).toEqual(groupsBefore);
      await admin.disconnect();
    },
  );

  it('returns exactly the expected events for each filter', { timeout: 300_000 }, async () => {
    const ids = (lines: string[]) =>
      lines.map((l) => (JSON.parse(l) as AuditEventV1).event_id).sort();
    const expected = (p: (e: AuditEventV1) => boolean) =>
      all
        .filter(p)
        .map((e) => e.event_id)
        .sort();

    const grant = 'GATES-2026-000004';
    expect(ids((await replay('--grant', grant)).lines)).toEqual(
      expected((e) => e.grant_id === grant),
    );
    expect(ids((await replay('--funder', 'CADOE', '--stage', 'routing')).lines)).toEqual(
      expected((e) => e.funder_id === 'CADOE' && e.stage === 'routing'),
    );
    expect(ids((await replay('--action', 'SUBMITTED', '--funder', 'NSF')).lines)).toEqual(
      expected((e) => e.action === 'SUBMITTED' && e.funder_id === 'NSF'),
    );
    const from = T0 + 1000 * 60_000;
    const to = T0 + 1010 * 60_000;
    expect(
      ids((await replay('--from', new Date(from).toISOString(), '--to', String(to))).lines),
    ).toEqual(expected((e) => e.occurred_at >= from && e.occurred_at < to));
    const csv = await replay('--grant', grant, '--format', 'csv');
    expect(csv.lines).toHaveLength(STEPS + 1);
    expect(csv.lines[0]).toContain('event_id');
  });
});
