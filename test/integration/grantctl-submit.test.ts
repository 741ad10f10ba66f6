// Guarantee: `grantctl submit` never half-sends a batch silently. A file with
// one bad line sends nothing and names the line and why (exit 4); with
// --skip-invalid the valid lines arrive on the topic as Avro, decodable with
// the GrantSubmission contract, and the bad one is still reported.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantSubmissionV2Avro, GrantSubmissionV2Schema } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients, createIngestTopic, scenarioDir } from '@grantstream/testing';

const line = (grantId: string, extra: object = {}) =>
  JSON.stringify({
    grant_id: grantId,
    funder_portal: 'grants-gov',
    submission_deadline: '2027-03-01T22:00:00Z',
    metadata: { project_title: `Study ${grantId}`, requested_amount: '$120,000' },
    attachments: [{ uri: 'attachments/narrative.pdf', filename: 'narrative.pdf' }],
    audit_timestamp: '2026-11-28T12:00:00Z',
    ...extra,
  });

describe('grantctl submit', () => {
  let clients: PlatformClients;
  const dir = scenarioDir('submit');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await clients.close();
  });

  it('sends nothing when a line is invalid, and only the valid lines with --skip-invalid', async () => {
    const topic = await createIngestTopic(clients, 'submit');
    const file = join(dir, 'batch.jsonl');
    writeFileSync(
      file,
      [
        line('NSF-2026-00001'),
        line('NSF-2026-00002', { submission_deadline: 'next tuesday' }),
        '{"grant_id": "NSF-2026-00003", ',
        line('NSF-2026-00004'),
      ].join('\n') + '\n',
    );

    const refused = await runTs(ENTRY.grantctl, ['submit', file, '--topic', topic, '--json'], {
      timeoutMs: 60_000,
    });
    expect(refused.code, refused.stderr).toBe(4);
    const summary = JSON.parse(refused.stdout) as {
      sent: number;
      invalid: number;
      problems: { line: number; grantId: string | null; field: string }[];
    };
    expect(summary.sent).toBe(0);
    expect(summary.invalid).toBe(2);
    expect(summary.problems.map((p) => p.line).sort()).toEqual([2, 3]);
    expect(summary.problems.find((p) => p.line === 2)?.field).toBe('submission_deadline');
    expect(await clients.admin.messageCount(topic)).toBe(0);

    const partial = await runTs(
      ENTRY.grantctl,
      ['submit', file, '--topic', topic, '--skip-invalid', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(partial.code, partial.stderr).toBe(0);
    const read = await clients.io.read(topic, {
      expected: 2,
      timeoutMs: 30_000,
      isolation: 'read_committed',
    });
    const ids: string[] = [];
    for (const m of read) {
      const { value } = await clients.serde.decodeAs(m.value, GrantSubmissionV2Avro);
      const parsed = GrantSubmissionV2Schema.parse(value);
      expect(parsed.attachments[0]?.uri).toBe(`file://${dir}/attachments/narrative.pdf`);
      ids.push(parsed.grant_id);
    }
    expect(ids.sort()).toEqual(['NSF-2026-00001', 'NSF-2026-00004']);
  });
});
