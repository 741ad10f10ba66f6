// Guarantee: the README's main-job command brings the stack up, applies the
// declared topics and schemas, and carries a batch through the ingest topic
// as Avro, every application read back and decoded equal.
import { describe, expect, it } from 'vitest';
import { ENTRY, runTs } from '@grantstream/testing';

describe('main job', () => {
  it('runs a sample batch through the local stack', async () => {
    const r = await runTs(ENTRY.mainJob, ['--count', '45'], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /kafka (already-running|started|restarted), registry (already-running|started|restarted)/,
    );
    expect(r.stdout).toMatch(/0 created, \d+ in sync, 0 drift, \d+ value schemas registered/);
    expect(r.stdout).toContain(
      'summary: 45/45 applications read back and decoded equal; 0 mismatched',
    );
    for (const funder of ['NSF', 'GATES', 'CADOE'])
      expect(r.stdout).toMatch(new RegExp(`${funder}\\s+15`));
  });
});
