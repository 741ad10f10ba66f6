// Guarantee: tampering with the audit trail is detected and named. An event
// re-produced under its own key with one field altered, an event deleted by a
// tombstone, and a forged event inserted into a chain each make
// `grantctl audit verify` exit non-zero naming the grant and the event, while
// untouched grants verify intact; `grantctl audit export` writes the evidence
// bundle (JSON + HTML) with the verification result.
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEvent } from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  runTs,
  testClients,
  chainFor,
  createAuditTopic,
  decisionOf,
  produceEvents,
} from '@grantstream/testing';

const T0 = Date.UTC(2026, 10, 1);

describe('audit verify and export', () => {
  let clients: PlatformClients;
  let topic: string;
  const chains = {
    altered: chainFor('NSF-2026-ALT01', 5, T0),
    deleted: chainFor('GATES-2026-DEL01', 5, T0),
    forged: chainFor('CADOE-2026-FRG01', 5, T0),
    intact: chainFor('NSF-2026-OK0001', 5, T0),
  };
  const verify = () => runTs(ENTRY.grantctl, ['audit', 'verify', '--topic', topic, '--json']);

  beforeAll(async () => {
    clients = await testClients();
    topic = await createAuditTopic(clients, 'tamper');
    await produceEvents(clients, topic, Object.values(chains).flat());
  });
  afterAll(() => clients.close());

  it('verifies intact chains, including identical redeliveries', async () => {
    // A redelivery after a crash writes the same event again: not tampering.
    await produceEvents(clients, topic, [chains.intact[2]!]);
    const r = await verify();
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; grants: number; events: number };
    expect(report).toMatchObject({ ok: true, grants: 4, events: 20 });
  });

  it('names the altered, deleted and forged events', async () => {
    const victim = chains.altered[2]!;
    await produceEvents(clients, topic, [
      { key: victim.key, event: { ...victim.event, stage: 'routing' } },
    ]);
    const deleted = chains.deleted[3]!;
    await clients.io.produce(topic, [{ key: deleted.key, value: null }]);
    const forged = buildAuditEvent(
      { ...decisionOf('CADOE-2026-FRG01', 3, T0 + 2500), discriminator: 'forged' },
      chains.forged[1]!.event.event_hash,
    );
    await produceEvents(clients, topic, [forged]);

    const r = await verify();
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      grantsWithFindings: string[];
      findings: { grantId: string; kind: string; eventId?: string; key?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.grantsWithFindings.sort()).toEqual([
      'CADOE-2026-FRG01',
      'GATES-2026-DEL01',
      'NSF-2026-ALT01',
    ]);
    const of = (grant: string) => report.findings.filter((f) => f.grantId === grant);
    expect(of('NSF-2026-ALT01').map((f) => f.eventId ?? f.key)).toContain(victim.event.event_id);
    expect(
      of('GATES-2026-DEL01').some(
        (f) =>
          f.kind === 'TOMBSTONE' && (f.key === deleted.key || f.eventId === deleted.event.event_id),
      ),
    ).toBe(true);
    expect(of('CADOE-2026-FRG01').some((f) => f.kind === 'FORK')).toBe(true);
    expect(of('NSF-2026-OK0001')).toEqual([]);

    const text = await runTs(ENTRY.grantctl, ['audit', 'verify', '--topic', topic]);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain('NSF-2026-ALT01');
    expect(text.stdout).toContain(victim.event.event_id);
    expect(text.stdout).toContain('3 grant(s) with findings');
  });

  it('exports an evidence bundle with the timeline and the verification result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    const intact = await runTs(ENTRY.grantctl, [
      'audit',
      'export',
      '--topic',
      topic,
      '--grant',
      'NSF-2026-OK0001',
      '--out',
      dir,
    ]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain('chain intact');
    const json = readFileSync(join(dir, 'evidence-NSF-2026-OK0001.json'), 'utf8');
    for (const e of chains.intact) expect(json).toContain(e.event.event_hash);
    expect(json).toContain('TRK-NSF-2026-OK0001');
    const html = readFileSync(join(dir, 'evidence-NSF-2026-OK0001.html'), 'utf8');
    expect(html).toContain('NSF-2026-OK0001');
    expect(html).toContain('rules-2026.1');

    const altered = await runTs(ENTRY.grantctl, [
      'audit',
      'export',
      '--topic',
      topic,
      '--grant',
      'NSF-2026-ALT01',
      '--out',
      dir,
    ]);
    expect(altered.code).toBe(4);
    expect(altered.stdout).toMatch(/finding/);
  });
});
