import { AuditCheckpointV1Avro, LogOrderBatchV1Avro } from '@grantstream/contracts';
import { Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import { signCheckpoint } from './checkpoint';
import type { LogOrderBatch } from './leaf-order';
import {
  checkpointNoteOfRecord,
  checkpointRecordOf,
  orderBatchOfRecord,
  orderBatchRecordOf,
} from './log-records';
import { generateNoteKey } from './signed-note';

const ORIGIN = 'grantstream.test/audit';
const LIMITS = { maxBatchEntries: 3, origin: ORIGIN };

const batch: LogOrderBatch = {
  firstIndex: 7,
  entries: [0, 1].map((i) => ({
    key: `G-${i}:${String(i).padStart(64, 'a')}`,
    eventHash: String(i).padStart(64, 'b'),
    stableHash: String(i).padStart(64, 'c'),
    partition: i,
    offset: String(100 + i),
  })),
};

describe('order topic records', () => {
  it('round-trips a batch through its Avro record', () => {
    const type = Type.forSchema(LogOrderBatchV1Avro, { omitRecordMethods: true });
    const decoded: unknown = type.fromBuffer(type.toBuffer(orderBatchRecordOf(ORIGIN, batch)));
    expect(orderBatchOfRecord(decoded, LIMITS)).toEqual({ ok: true, origin: ORIGIN, batch });
  });

  it.each([
    ['not a record', 'text', 'NOT_A_BATCH'],
    ['an extra field', { ...orderBatchRecordOf(ORIGIN, batch), extra: 1 }, 'NOT_A_BATCH'],
    ['another log', orderBatchRecordOf('other/log', batch), 'OTHER_LOG'],
    [
      'too many entries',
      orderBatchRecordOf(ORIGIN, { firstIndex: 0, entries: [...batch.entries, ...batch.entries] }),
      'BATCH_TOO_LARGE',
    ],
    ['no entries', orderBatchRecordOf(ORIGIN, { firstIndex: 0, entries: [] }), 'EMPTY_BATCH'],
    ['a negative index', { ...orderBatchRecordOf(ORIGIN, batch), first_index: -1 }, 'NOT_A_BATCH'],
    [
      'a bad hash',
      orderBatchRecordOf(ORIGIN, {
        firstIndex: 0,
        entries: [{ ...(batch.entries[0] as LogOrderBatch['entries'][number]), eventHash: 'zz' }],
      }),
      'MALFORMED_ENTRY',
    ],
  ])('refuses %s', (_name, value, reason) => {
    const result = orderBatchOfRecord(value, LIMITS);
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.reason).toBe(reason);
  });
});

describe('checkpoint topic records', () => {
  const { signer } = generateNoteKey(ORIGIN);
  const note = signCheckpoint(
    { origin: ORIGIN, size: 5, rootHash: Buffer.alloc(32, 1), time: new Date(0) },
    signer,
  );
  const limits = { maxNoteBytes: 4096 };

  it('round-trips a note through its Avro record', () => {
    const type = Type.forSchema(AuditCheckpointV1Avro, { omitRecordMethods: true });
    const decoded: unknown = type.fromBuffer(type.toBuffer(checkpointRecordOf(5, note)));
    expect(checkpointNoteOfRecord(decoded, 'topic/0/3', limits)).toEqual({
      ok: true,
      treeSize: 5,
      note: { note, ref: 'topic/0/3' },
    });
  });

  it.each([
    ['not a record', { note }, 'NOT_A_CHECKPOINT'],
    ['a note past the bound', checkpointRecordOf(5, note.padEnd(5000, 'x')), 'NOTE_TOO_LARGE'],
    ['a size the note does not state', checkpointRecordOf(6, note), 'SIZE_DISAGREES'],
  ])('refuses %s', (_name, value, reason) => {
    const result = checkpointNoteOfRecord(value, 'topic/0/3', limits);
    expect(result.ok ? undefined : result.reason).toBe(reason);
  });

  it('passes a note it cannot parse on to the verifier, which names the refusal', () => {
    expect(checkpointNoteOfRecord(checkpointRecordOf(1, 'junk'), 'r', limits).ok).toBe(true);
  });
});
