import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@grantstream/contracts';
import type { OutgoingMessage, ReadMessage } from '@grantstream/kafka';
import { redriveDeadLetters, type RedriveOptions, type RedriveWriter } from './redrive';

type Transaction = {
  batches: { topic: string; messages: readonly OutgoingMessage[] }[];
  compression?: 'gzip';
};

/** Records each transaction; fails the `failAt`-th one (1-based) as a broker would abort it. */
class RecordingWriter implements RedriveWriter {
  readonly committed: Transaction[] = [];
  private calls = 0;
  constructor(private readonly failAt = 0) {}
  produceAtomically(
    _id: string,
    batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[],
    options: { compression?: 'gzip' } = {},
  ): Promise<void> {
    this.calls += 1;
    if (this.calls === this.failAt) return Promise.reject(new Error('transaction aborted'));
    this.committed.push({ batches: [...batches], ...options });
    return Promise.resolve();
  }
  encode(_topic: string, value: unknown): Promise<Buffer> {
    return Promise.resolve(Buffer.from(JSON.stringify(value)));
  }
  sentTo(topic: string): OutgoingMessage[] {
    return this.committed.flatMap((t) =>
      t.batches.filter((b) => b.topic === topic).flatMap((b) => b.messages),
    );
  }
}

function letter(offset: number, headers: Record<string, string> = {}): ReadMessage {
  const all: Record<string, string> = {
    [DLQ_HEADERS.SOURCE_TOPIC]: 'grants.routed.v1',
    [DLQ_HEADERS.SOURCE_PARTITION]: '0',
    [DLQ_HEADERS.SOURCE_OFFSET]: String(100 + offset),
    [DLQ_HEADERS.ERROR_CATEGORY]: 'NETWORK_TIMEOUT',
    [DLQ_HEADERS.GRANT_ID]: `NSF-2026-${String(offset).padStart(6, '0')}`,
    ...headers,
  };
  return {
    topic: 'grants.dlq.v1',
    partition: 0,
    offset: String(offset),
    key: Buffer.from(all[DLQ_HEADERS.GRANT_ID] ?? ''),
    value: Buffer.from(`value ${offset}`),
    headers: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: '0',
  };
}

function options(writer: RedriveWriter, over: Partial<RedriveOptions> = {}): RedriveOptions {
  return {
    deadLetterTopic: 'grants.dlq.v1',
    refuseCategories: ['SCHEMA_VIOLATION'],
    force: false,
    alreadyRedriven: new Set(),
    operator: 'otto',
    service: { name: 'test', version: '1' },
    now: () => Date.UTC(2026, 0, 1),
    auditTopic: 'grants.audit.v1',
    transactionalId: 'test.redrive',
    batchSize: 2,
    dryRun: false,
    writer,
    ...over,
  };
}

const SCHEMA = { [DLQ_HEADERS.ERROR_CATEGORY]: 'SCHEMA_VIOLATION' };

describe('redriveDeadLetters', () => {
  it('commits each message with its REDRIVEN event naming the operator, batchSize per transaction', async () => {
    const writer = new RecordingWriter();
    const report = await redriveDeadLetters(
      [1, 2, 3].map((o) => letter(o)),
      options(writer),
    );
    expect(report.redriven.map((r) => r.entry.position)).toEqual(['0:1', '0:2', '0:3']);
    expect(report.skipped).toEqual([]);
    expect(writer.committed.map((t) => t.batches.map((b) => b.messages.length))).toEqual([
      [2, 2],
      [1, 1],
    ]);
    const events = writer
      .sentTo('grants.audit.v1')
      .map((m) => JSON.parse(String(m.value)) as { action: string; details: object });
    expect(events).toHaveLength(3);
    for (const e of events) {
      expect(e.action).toBe('REDRIVEN');
      expect(e.details).toMatchObject({ operator: 'otto', redrive_count: '1' });
    }
    expect(writer.sentTo('grants.routed.v1').map((m) => String(m.value))).toEqual([
      'value 1',
      'value 2',
      'value 3',
    ]);
  });

  it('sends each dead letter once: already redriven, or twice in one run', async () => {
    const writer = new RecordingWriter();
    const report = await redriveDeadLetters([letter(1), letter(2), letter(1)], {
      ...options(writer),
      alreadyRedriven: new Set(['0:2']),
    });
    expect(report.redriven.map((r) => r.entry.position)).toEqual(['0:1']);
    expect(report.skipped.map((s) => [s.entry.position, s.reason.split(' (')[0]])).toEqual([
      ['0:2', 'already redriven'],
      ['0:1', 'already redriven'],
    ]);
    expect(writer.sentTo('grants.routed.v1')).toHaveLength(1);
  });

  it('refuses a refused category unless forced', async () => {
    const refused = await redriveDeadLetters([letter(1, SCHEMA)], options(new RecordingWriter()));
    expect(refused.skipped[0]?.reason).toMatch(/SCHEMA_VIOLATION.*--force/);
    const writer = new RecordingWriter();
    const forced = await redriveDeadLetters([letter(1, SCHEMA)], {
      ...options(writer),
      force: true,
    });
    expect(forced.redriven).toHaveLength(1);
    expect(writer.sentTo('grants.routed.v1')).toHaveLength(1);
  });

  it('in a dry run says what would go and sends nothing', async () => {
    const writer = new RecordingWriter();
    const committed: string[] = [];
    const report = await redriveDeadLetters([letter(1), letter(2, SCHEMA)], {
      ...options(writer),
      dryRun: true,
      onCommitted: (s) => committed.push(...s.map((r) => r.entry.position)),
    });
    expect(report.redriven.map((r) => r.entry.position)).toEqual(['0:1']);
    expect(report.skipped.map((r) => r.entry.position)).toEqual(['0:2']);
    expect(writer.committed).toEqual([]);
    expect(committed).toEqual([]);
  });

  it('resends a stored value alone and gzip-compressed, and refuses one that does not read back', async () => {
    const stored = (offset: number, sha256: string) =>
      letter(offset, {
        [DLQ_HEADERS.VALUE_REF]: `file:///store/${sha256}`,
        [DLQ_HEADERS.VALUE_SHA256]: sha256,
        [DLQ_HEADERS.OMITTED]: 'value',
      });
    const good = 'a'.repeat(64);
    const writer = new RecordingWriter();
    const report = await redriveDeadLetters(
      [letter(1), stored(2, good), stored(3, 'b'.repeat(64)), letter(4)],
      {
        ...options(writer),
        readStored: (ref) =>
          ref.sha256 === good
            ? Promise.resolve(Buffer.from('the large original'))
            : Promise.reject(new Error('SHA-256 mismatch')),
      },
    );
    expect(report.redriven.map((r) => r.entry.position)).toEqual(['0:1', '0:2', '0:4']);
    expect(report.skipped).toMatchObject([
      { entry: { position: '0:3' }, unreadable: true, reason: expect.stringMatching(/mismatch/) },
    ]);
    expect(writer.committed.map((t) => t.compression ?? 'none')).toEqual(['none', 'gzip', 'none']);
    expect(String(writer.committed[1]?.batches[0]?.messages[0]?.value)).toBe('the large original');

    const nowhere = await redriveDeadLetters([stored(5, good)], options(new RecordingWriter()));
    expect(nowhere.skipped[0]?.reason).toMatch(/grantctl dlq redrive/);
  });

  it('reports what committed before a transaction failed, and no more', async () => {
    const writer = new RecordingWriter(2);
    const committed: string[] = [];
    await expect(
      redriveDeadLetters(
        [1, 2, 3, 4].map((o) => letter(o)),
        {
          ...options(writer),
          onCommitted: (s) => committed.push(...s.map((r) => r.entry.position)),
        },
      ),
    ).rejects.toThrow('transaction aborted');
    expect(committed).toEqual(['0:1', '0:2']);
  });
});
