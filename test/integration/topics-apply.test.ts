// Guarantee: `grantctl topics apply` is idempotent (a second run changes nothing
// and succeeds), reports drift when a topic's config was changed by hand (and
// fixes it only with --fix-drift), and the audit topic reads back compacted and
// retained forever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, TOPIC_DECLARATIONS } from '@grantstream/contracts';
import type { ApplyTopicsReport, PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients } from '@grantstream/testing';

async function apply(
  ...flags: string[]
): Promise<{ code: number | null; report: ApplyTopicsReport }> {
  const r = await runTs(ENTRY.grantctl, ['topics', 'apply', '--json', ...flags]);
  expect(r.stderr).not.toMatch(/grantctl: /);
  return { code: r.code, report: JSON.parse(r.stdout) as ApplyTopicsReport };
}

describe('grantctl topics apply', () => {
  let clients: PlatformClients;
  // The DLQ's retention is what this test changes by hand; it restores it at the end.
  const victim = TOPICS.DLQ;

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await apply('--fix-drift');
    await clients.close();
  });

  it('changes nothing on a second run', async () => {
    await apply();
    const { code, report } = await apply();
    expect(code).toBe(0);
    expect(report.created).toEqual([]);
    expect(report.drift).toEqual([]);
    expect(report.inSync.sort()).toEqual(TOPIC_DECLARATIONS.map((d) => d.name).sort());
    expect(report.schemas.map((s) => s.topic).sort()).toEqual(
      TOPIC_DECLARATIONS.filter((d) => d.valueSchema)
        .map((d) => d.name)
        .sort(),
    );
  });

  it('keeps the audit topic compacted and retained forever', async () => {
    const observed = await clients.admin.describeTopics(
      [TOPICS.AUDIT],
      ['cleanup.policy', 'retention.ms', 'min.compaction.lag.ms'],
    );
    expect(observed.get(TOPICS.AUDIT)?.config).toMatchObject({
      'cleanup.policy': 'compact',
      'retention.ms': '-1',
    });
    expect(Number(observed.get(TOPICS.AUDIT)?.config['min.compaction.lag.ms'])).toBeGreaterThan(0);
  });

  it('reports a config changed by hand as drift, exits 3, and fixes it only when asked', async () => {
    await clients.admin.setTopicConfig(victim, { 'retention.ms': '3600000' });

    const found = await apply();
    expect(found.code).toBe(3);
    expect(found.report.drift).toEqual([
      expect.objectContaining({
        topic: victim,
        field: 'retention.ms',
        actual: '3600000',
        fixable: true,
      }),
    ]);
    expect(found.report.fixed).toEqual([]);

    const fixed = await apply('--fix-drift');
    expect(fixed.code).toBe(0);
    expect(fixed.report.fixed).toHaveLength(1);

    const after = await apply();
    expect(after.code).toBe(0);
    expect(after.report.drift).toEqual([]);
  });

  it('prints a readable report without --json', async () => {
    const r = await runTs(ENTRY.grantctl, ['topics', 'apply']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`in sync   ${TOPICS.AUDIT}`);
    expect(r.stdout).toMatch(/0 created, \d+ in sync, 0 drift/);
  });
});
