// Guarantee: `grantctl audit verify` tells legitimate history from tampering.
// An audit topic holding only what the pipeline writes (a grant resubmitted
// with changed content, the same application delivered twice, the ingest topic
// re-read by a new consumer group, events redelivered verbatim, a decision
// re-made when its input was read again, and aborted transactions interleaved
// with committed writes) verifies with exit 0 and lists the linked trails; a
// copy of the same history with an altered, a re-hashed, a deleted and a
// forged event exits 4 naming each of them.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  CONTENT_HASH_DETAIL,
  DUPLICATE_ACTION,
  DUPLICATE_OF_TRAIL_DETAIL,
  DUPLICATE_OUTCOME,
  RESUBMISSION_OF_TRAIL_DETAIL,
  auditKeyOf,
  auditTrailIdFor,
  computeEventHash,
  sha256Hex,
  stageAuditRecord,
  trailStartDiscriminator,
  type AuditDecision,
} from '@grantstream/audit';
import type { AuditActionV1, AuditEventV1 } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  runTs,
  testClients,
  uniqueName,
  createAuditTopic,
  produceEvents,
} from '@grantstream/testing';

type Built = { key: string; event: AuditEventV1 };

const T0 = Date.UTC(2026, 10, 2);
const SERVICE = { version: '1.4.0' };
const tag = uniqueName('L')
  .replace(/[^A-Z0-9]/gi, '')
  .slice(-8)
  .toUpperCase();
const ingestTopic = 'grants.ingest.v1';
const grant = (n: string) => `NSF-2026-${n}-${tag}`;
const INGEST_GROUP = 'grantstream-ingest';

/** One stage decision as the stages describe it (see each handler's auditedRecords call). */
function decision(
  grantId: string,
  trail: string,
  stage: string,
  action: AuditActionV1,
  source: { topic: string; partition: number; offset: number },
  at: number,
  details: Record<string, string> = {},
): AuditDecision {
  return {
    grantId,
    funderId: 'NSF',
    auditTrailId: trail,
    stage,
    action,
    payloadHash: sha256Hex(`${grantId}|${stage}|${source.topic}|${source.offset}`),
    service: { name: stage, ...SERVICE },
    occurredAt: at,
    source,
    ...(stage === 'routing' ? { ruleSetVersion: 'nsf-rules-2026.2' } : {}),
    details,
  };
}

/** Chains decisions as the stages do: each event's hash is the next one's head. */
function chain(decisions: AuditDecision[], head: string = AUDIT_GENESIS_HASH): Built[] {
  const out: Built[] = [];
  let previous = head;
  for (const d of decisions) {
    const { record } = stageAuditRecord(d, previous);
    out.push({ key: record.key, event: record.value });
    previous = record.value.event_hash;
  }
  return out;
}

interface TrailSpec {
  /** Offset of the application on the ingest topic. */
  ingest: number;
  /** Offset of the grant on each downstream topic (each read of the ingest topic writes anew). */
  downstream: number;
  at: number;
  content: string;
  last: { action: AuditActionV1; details: Record<string, string> };
  /** The ingest consumer group that read the application. */
  group?: string;
}

/**
 * One application through ingest, normalization, routing and submission, as
 * the stages describe their decisions: ingest starts a trail per position and
 * consumer group, submission ends in a filing (SUBMITTED) or, for content
 * already accepted, a duplicate that files nothing.
 */
function pipelineTrail(grantId: string, spec: TrailSpec): Built[] {
  const ingestAt = { topic: ingestTopic, partition: 2, offset: spec.ingest };
  const trail = auditTrailIdFor(ingestAt, spec.group ?? INGEST_GROUP);
  const pos = (topic: string) => ({ topic, partition: 2, offset: spec.downstream });
  const at = spec.at;
  return chain([
    {
      ...decision(grantId, trail, 'ingest', 'VALIDATED', ingestAt, at, {
        attachments: '1',
        [CONTENT_HASH_DETAIL]: spec.content,
      }),
      discriminator: trailStartDiscriminator(trail),
    },
    decision(grantId, trail, 'normalization', 'NORMALIZED', pos('grants.validated.v1'), at + 40, {
      field_changes: '3',
    }),
    decision(grantId, trail, 'routing', 'FORWARD', pos('grants.normalized.v1'), at + 90, {
      flags: '',
    }),
    decision(grantId, trail, 'submission', spec.last.action, pos('grants.routed.v1'), at + 300, {
      [CONTENT_HASH_DETAIL]: spec.content,
      ...spec.last.details,
    }),
  ]);
}

const filed = (tracking: string, extra: Record<string, string> = {}) => ({
  action: 'SUBMITTED' as AuditActionV1,
  details: { attempt: '1', tracking_number: tracking, status: 'RECEIVED', ...extra },
});
const duplicateOf = (trail: string) => ({
  action: DUPLICATE_ACTION as AuditActionV1,
  details: { outcome: DUPLICATE_OUTCOME, [DUPLICATE_OF_TRAIL_DETAIL]: trail },
});

// A grant filed, then resubmitted with changed content: two trails, the second linked.
const resubmitted = grant('00001');
const first = pipelineTrail(resubmitted, {
  ingest: 0,
  downstream: 10,
  at: T0,
  content: sha256Hex('v1'),
  last: filed('GRANT1'),
});
const firstTrail = first[0]!.event.audit_trail_id;
const second = pipelineTrail(resubmitted, {
  ingest: 3,
  downstream: 13,
  at: T0 + 60_000,
  content: sha256Hex('v2'),
  last: filed('GRANT2', { [RESUBMISSION_OF_TRAIL_DETAIL]: firstTrail }),
});

// The same application sent twice by an upstream retry: the copy's trail ends in a DUPLICATE.
const redelivered = grant('00002');
const original = pipelineTrail(redelivered, {
  ingest: 1,
  downstream: 11,
  at: T0 + 1000,
  content: sha256Hex('same'),
  last: filed('GRANT3'),
});
const originalTrail = original[0]!.event.audit_trail_id;
const copy = pipelineTrail(redelivered, {
  ingest: 4,
  downstream: 14,
  at: T0 + 61_000,
  content: sha256Hex('same'),
  last: duplicateOf(originalTrail),
});

// A new consumer group reads the ingest topic from the beginning: a new trail
// for the same ingest position, ending in a DUPLICATE of the first read's trail.
const reread = grant('00003');
const readFirst = pipelineTrail(reread, {
  ingest: 2,
  downstream: 12,
  at: T0 + 2000,
  content: sha256Hex('r'),
  last: filed('GRANT4'),
});
const readFirstTrail = readFirst[0]!.event.audit_trail_id;
const readAgain = pipelineTrail(reread, {
  ingest: 2,
  downstream: 40,
  at: T0 + 120_000,
  content: sha256Hex('r'),
  last: duplicateOf(readFirstTrail),
  group: `${INGEST_GROUP}-redeployed`,
});

// A decision re-made when normalization read its input again: same event id
// and predecessor, only the time differs, and routing went on from the copy.
const remade = grant('00004');
const remadeTrail = pipelineTrail(remade, {
  ingest: 5,
  downstream: 15,
  at: T0 + 3000,
  content: sha256Hex('m'),
  last: filed('GRANT5'),
});
const normalized = remadeTrail[1]!.event;
const remadeCopy = chain(
  [
    decision(
      remade,
      normalized.audit_trail_id,
      'normalization',
      'NORMALIZED',
      normalized.source!,
      normalized.occurred_at + 2500,
      { field_changes: '3' },
    ),
    decision(
      remade,
      normalized.audit_trail_id,
      'routing',
      'FORWARD',
      { topic: 'grants.normalized.v1', partition: 2, offset: 97 },
      normalized.occurred_at + 2600,
      { flags: '' },
    ),
  ],
  normalized.previous_event_hash,
);

const legitimate: Built[] = [
  ...first,
  ...second,
  ...original,
  ...copy,
  ...readFirst,
  ...readAgain,
  ...remadeTrail,
  ...remadeCopy,
  // Redelivered verbatim after a crash.
  first[1]!,
  copy[3]!,
];

interface VerifyReport {
  ok: boolean;
  grants: number;
  trails: number;
  events: number;
  findings: { grantId: string; kind: string; eventId?: string; key?: string }[];
  linkedTrails: {
    grantId: string;
    trails: { trailId: string; link: { kind: string; ofTrail: string } | null }[];
  }[];
  redeliveries: { identical: number; remade: number };
}

describe('audit verify on legitimate history', () => {
  let clients: PlatformClients;
  let topic: string;
  let tampered: string;
  const verify = async (t: string) => {
    const r = await runTs(ENTRY.grantctl, ['audit', 'verify', '--topic', t, '--json']);
    return { code: r.code, stderr: r.stderr, report: JSON.parse(r.stdout) as VerifyReport };
  };

  beforeAll(async () => {
    clients = await testClients();
    topic = await createAuditTopic(clients, 'legit');
    tampered = await createAuditTopic(clients, 'legit-tampered');
    await produceEvents(clients, topic, legitimate);
    await produceEvents(clients, tampered, legitimate);
  });
  afterAll(() => clients.close());

  it('hides records of aborted transactions, interleaved with committed ones', async () => {
    // Two transactional writers on one partition: the one that began first aborts last.
    // A reader that activates aborted transactions in the order the broker lists
    // them (by abort marker) would let the first writer's records through.
    const encode = (b: Built) => clients.serde.encode(topic, b.event);
    const forgedStep = chain(
      [
        decision(
          resubmitted,
          firstTrail,
          'submission',
          'SUBMITTED',
          { topic: 'grants.routed.v1', partition: 2, offset: 999 },
          T0 + 500,
          { tracking_number: 'GRANT-FORGED' },
        ),
      ],
      first[2]!.event.event_hash,
    )[0]!;
    const conflicting = {
      ...original[3]!.event,
      details: { ...original[3]!.event.details, tracking_number: 'GRANT-OTHER' },
    };
    conflicting.event_hash = computeEventHash(conflicting);
    const writer = (id: string) =>
      clients.kafka.producer({
        transactionalId: uniqueName(`audit-legit-${id}`),
        idempotent: true,
        maxInFlightRequests: 1,
      });
    const p1 = writer('p1');
    const p2 = writer('p2');
    await Promise.all([p1.connect(), p2.connect()]);
    try {
      const t1 = await p1.transaction();
      await t1.send({
        topic,
        messages: [{ key: forgedStep.key, value: await encode(forgedStep), partition: 0 }],
      });
      const t2 = await p2.transaction();
      await t2.send({
        topic,
        messages: [
          {
            key: auditKeyOf(conflicting),
            value: await clients.serde.encode(topic, conflicting),
            partition: 0,
          },
        ],
      });
      await t2.abort();
      await t1.send({
        topic,
        messages: [{ key: forgedStep.key, value: await encode(forgedStep), partition: 0 }],
      });
      await t1.abort();
      // Committed records after the aborted ones, so the partition's stable end moves past them.
      const t3 = await p2.transaction();
      await t3.send({
        topic,
        messages: [{ key: first[1]!.key, value: await encode(first[1]!), partition: 0 }],
      });
      await t3.commit();
    } finally {
      await Promise.all([p1.disconnect(), p2.disconnect()]);
    }

    const r = await verify(topic);
    expect(r.report.findings).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('verifies the pipeline’s history with exit 0 and lists the linked trails', async () => {
    const r = await verify(topic);
    expect(r.report.findings).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ ok: true, grants: 4 });
    expect(r.report.trails).toBe(7);
    const linksOf = (g: string) =>
      (r.report.linkedTrails.find((l) => l.grantId === g)?.trails ?? [])
        .map((t) => t.link)
        .filter((l) => l !== null)
        .map((l) => ({ kind: l.kind, ofTrail: l.ofTrail }));
    expect(linksOf(resubmitted)).toEqual([{ kind: 'RESUBMISSION', ofTrail: firstTrail }]);
    expect(linksOf(redelivered)).toEqual([{ kind: 'DUPLICATE', ofTrail: originalTrail }]);
    expect(linksOf(reread)).toEqual([{ kind: 'RE_READ', ofTrail: readFirstTrail }]);
    expect(r.report.linkedTrails.map((l) => l.grantId)).not.toContain(remade);
    expect(r.report.redeliveries.identical).toBeGreaterThanOrEqual(2);
    expect(r.report.redeliveries.remade).toBe(1);

    const text = await runTs(ENTRY.grantctl, ['audit', 'verify', '--topic', topic]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('RESUBMISSION');
    expect(text.stdout).toContain('every chain intact');
  });

  it('replays, exports and writes CSV trail by trail in chain order, not partition order', async () => {
    const expected = [...first, ...second].map((b) => b.event.event_id);
    const replay = await runTs(ENTRY.grantctl, [
      'audit',
      'replay',
      '--topic',
      topic,
      '--grant',
      resubmitted,
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    const lines = replay.stdout.split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as AuditEventV1).event_id)).toEqual(expected);

    const csv = await runTs(ENTRY.grantctl, [
      'audit',
      'replay',
      '--topic',
      topic,
      '--grant',
      resubmitted,
      '--format',
      'csv',
    ]);
    const rows = csv.stdout.split('\r\n').join('\n').split('\n').filter(Boolean).slice(1);
    expect(rows.map((r) => r.split(',')[0])).toEqual(expected);

    const dir = mkdtempSync(join(tmpdir(), 'evidence-legit-'));
    const exported = await runTs(ENTRY.grantctl, [
      'audit',
      'export',
      '--topic',
      topic,
      '--grant',
      resubmitted,
      '--out',
      dir,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, `evidence-${resubmitted}.json`), 'utf8')) as {
      timeline: { eventId: string; trailId: string }[];
      trails: { trailId: string; link: { kind: string } | null }[];
    };
    expect(bundle.timeline.map((t) => t.eventId)).toEqual(expected);
    expect(bundle.trails.map((t) => t.link?.kind ?? null)).toEqual([null, 'RESUBMISSION']);
  });

  it('still names altered, re-hashed, deleted and forged events', async () => {
    const altered = second[3]!;
    const rehashed = { ...original[2]!.event, rule_set_version: 'nsf-rules-2020.1' };
    rehashed.event_hash = computeEventHash(rehashed);
    const deleted = readFirst[2]!;
    const forged = chain(
      [
        decision(
          resubmitted,
          firstTrail,
          'submission',
          'SUBMITTED',
          { topic: 'grants.routed.v1', partition: 2, offset: 998 },
          T0 + 400,
          { tracking_number: 'GRANT-FORGED' },
        ),
      ],
      first[2]!.event.event_hash,
    );
    await produceEvents(clients, tampered, [
      {
        key: altered.key,
        event: {
          ...altered.event,
          details: { ...altered.event.details, tracking_number: 'GRANT9' },
        },
      },
      { key: auditKeyOf(rehashed), event: rehashed },
      ...forged,
    ]);
    await clients.io.produce(tampered, [{ key: deleted.key, value: null }]);

    const r = await verify(tampered);
    expect(r.code).toBe(4);
    const kinds = (g: string) =>
      r.report.findings.filter((f) => f.grantId === g).map((f) => `${f.kind} ${f.eventId ?? ''}`);
    expect(kinds(resubmitted)).toEqual(
      expect.arrayContaining([
        `ALTERED ${altered.event.event_id}`,
        `FORK ${forged[0]!.event.event_id}`,
      ]),
    );
    expect(kinds(redelivered)).toContain(`DUPLICATE_CONFLICT ${rehashed.event_id}`);
    expect(kinds(reread)).toContain(`TOMBSTONE ${deleted.event.event_id}`);
    expect(kinds(remade)).toEqual([]);
  });
});
