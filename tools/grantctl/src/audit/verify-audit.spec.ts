import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  MerkleLog,
  auditLeafFieldsOf,
  auditLeafHash,
  buildAuditEvent,
  generateNoteKey,
  payloadHashOf,
  signCheckpoint,
  type AuditRecord,
  type LogOrderBatch,
  type LogOrderEntry,
} from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';
import { GrantSpill } from './grant-spill';
import type { AuditSources } from './log-sources';
import { verifyAudit, type LogCheckOptions } from './verify-audit';

const ORIGIN = 'grantstream.example/audit';
const key = generateNoteKey(ORIGIN);

function chain(grantId: string, steps: number): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return Array.from({ length: steps }, (_, i) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: 'nsf',
        auditTrailId: `trail-${grantId}`,
        stage: i === 0 ? 'ingest' : 'routing',
        action: i === 0 ? 'INGESTED' : 'FORWARD',
        payloadHash: payloadHashOf(Buffer.from(`${grantId}-${i}`)),
        service: { name: 'test', version: '1' },
        occurredAt: 1_700_000_000_000 + i,
        source: { topic: 'in', partition: 0, offset: i },
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

/** An in-memory audit topic with its log, as the checkpointer would have written it. */
function fixture(grants: number) {
  const records: AuditRecord[] = [];
  const entries: LogOrderEntry[] = [];
  const log = new MerkleLog();
  for (let g = 0; g < grants; g += 1) {
    for (const event of chain(`G-${g}`, 4)) {
      const k = `${event.grant_id}:${event.event_id}`;
      const record = { key: k, event, partition: g % 3, offset: String(records.length) };
      records.push(record);
      const entry = {
        ...auditLeafFieldsOf(k, event),
        partition: record.partition,
        offset: record.offset,
      };
      entries.push(entry);
      log.appendLeafHash(auditLeafHash(entry));
    }
  }
  const note = signCheckpoint({ origin: ORIGIN, size: log.size, rootHash: log.root() }, key.signer);
  return { records, entries, note };
}

function sourcesOf(f: ReturnType<typeof fixture>, records = f.records): AuditSources {
  const batches: LogOrderBatch[] = [];
  for (let i = 0; i < f.entries.length; i += 5) {
    batches.push({ firstIndex: i, entries: f.entries.slice(i, i + 5) });
  }
  return {
    auditSize: () => Promise.resolve(records.length),
    async scanAudit(onRecord) {
      for (const r of records) await onRecord(r);
      return records.length;
    },
    checkpointNotes: () =>
      Promise.resolve({ notes: [{ note: f.note, ref: 'cp/0/0' }], refused: [] }),
    witnessNotes: () => Promise.resolve({ notes: [], refused: [] }),
    orderBatches: () => batches.map((batch) => ({ ok: true as const, batch })),
  };
}

const options = (bucketRecords: number): LogCheckOptions => ({
  verifierKeys: [key.verifierKey],
  origin: ORIGIN,
  maxBatchEntries: 5,
  maxNoteBytes: 4096,
  maxSignatures: 4,
  bucketRecords,
  spillBufferBytes: 4096,
  maxFindingsListed: 3,
});

describe('verifyAudit', () => {
  const f = fixture(40);
  // Tail of G-1 deleted, every event of G-2 deleted: the chain verifier sees no trace.
  const tampered = f.records.filter(
    (r) => r.key !== f.records[7]?.key && !r.key.startsWith('G-2:'),
  );

  it('gives the same report whether the records fit one bucket or are spread over many', async () => {
    const one = await verifyAudit(sourcesOf(f, tampered), options(100_000));
    const many = await verifyAudit(sourcesOf(f, tampered), options(10));
    expect(many).toEqual(one);
    expect(one.chain.ok).toBe(true);
    expect(one.chain.grants).toBe(39);
    expect(one.log.checked && one.log.grants).toBe(40);
    expect(one.log.checked && one.log.grantsWithFindings).toEqual(['G-1', 'G-2']);
    expect(one.ok).toBe(false);
  });

  it('lists findings up to the limit per kind and counts the rest', async () => {
    const result = await verifyAudit(sourcesOf(f, tampered), options(100));
    if (!result.log.checked) throw new Error('log not checked');
    expect(result.log.counts['MISSING']).toBe(5);
    expect(result.log.findings).toHaveLength(3);
    expect(result.log.unlisted).toBe(2);
    expect(result.log.findings.map((x) => x.leafIndex)).toEqual([7, 8, 9]);
  });

  it('checks chains only, and says so, without a trusted key', async () => {
    const result = await verifyAudit(sourcesOf(f, tampered), { ...options(100), verifierKeys: [] });
    expect(result.log).toMatchObject({ checked: false });
    expect(result.ok).toBe(true);
  });
});

describe('GrantSpill', () => {
  it('reads back every line, multi-byte characters across buffer edges included', () => {
    const spill = new GrantSpill(3, 4096);
    const lines = Array.from({ length: 500 }, (_, i) => `${'é'.repeat(i % 37)}-${i}-€`);
    try {
      lines.forEach((line, i) => spill.write('x', `G-${i % 7}:e`, line));
      const back = [0, 1, 2].flatMap((b) => [...spill.lines('x', b)]);
      expect(back.sort()).toEqual([...lines].sort());
      // One grant, one bucket.
      expect(new Set([0, 7, 14].map((i) => spill.bucketOf(`G-${i % 7}:e`))).size).toBe(1);
    } finally {
      spill.close();
    }
  });
});
