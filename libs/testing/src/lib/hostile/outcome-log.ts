import { AUDIT_HEAD_HEADER } from '@grantstream/audit';
import { DLQ_HEADERS, TOPICS, type AuditEventV1 } from '@grantstream/contracts';
import type { OutgoingMessage, ReadMessage, TopicIO } from '@grantstream/kafka';

/** A dead letter of a scenario topic's record, as read. */
export interface DeadLetterSeen {
  category: string;
  code: string;
  reason: string;
  /** The audit head the dead letter carries: the hash of its DEAD_LETTER event. */
  auditHead: string | null;
  omitted: string | null;
  valueSha256: string | null;
  at: number;
}

/** An audit event about a scenario topic's record. */
export interface AuditSeen {
  action: string;
  category: string | null;
  code: string | null;
  eventHash: string;
  previousHash: string;
}

const position = (partition: number, offset: string | number) => `${partition}:${offset}`;

/**
 * What became of the records of one scenario topic, gathered from
 * grants.validated.v1, the dead-letter topic and the audit topic while a
 * follower reads them: validated grants by key, dead letters and audit
 * events by source position. `observe` is synchronous (a follower's
 * callback); audit values are decoded later by {@link settle}, and only
 * those that name the topic, since the audit topic carries every test's events.
 */
export class HostileOutcomeLog {
  /** First time each grant id was seen validated (epoch ms). */
  readonly validated = new Map<string, number>();
  readonly deadLetters = new Map<string, DeadLetterSeen[]>();
  readonly audits = new Map<string, AuditSeen[]>();
  private readonly pendingAudit: Buffer[] = [];
  private readonly topicBytes: Buffer;

  constructor(
    readonly topic: string,
    private readonly decodeAudit: (value: Buffer) => Promise<AuditEventV1>,
  ) {
    this.topicBytes = Buffer.from(topic);
  }

  /** Takes one message of the followed topics. */
  observe(m: ReadMessage): void {
    const now = Date.now();
    if (m.topic === TOPICS.VALIDATED) {
      const key = m.key?.toString() ?? '';
      if (!this.validated.has(key)) this.validated.set(key, now);
    } else if (m.topic === TOPICS.DLQ) {
      const h = (name: string) => m.headers[name]?.toString() ?? null;
      if (h(DLQ_HEADERS.SOURCE_TOPIC) !== this.topic) return;
      const at = position(
        Number(h(DLQ_HEADERS.SOURCE_PARTITION)),
        h(DLQ_HEADERS.SOURCE_OFFSET) ?? '',
      );
      const list = this.deadLetters.get(at) ?? [];
      list.push({
        category: h(DLQ_HEADERS.ERROR_CATEGORY) ?? '',
        code: h(DLQ_HEADERS.ERROR_CODE) ?? '',
        reason: h(DLQ_HEADERS.REASON) ?? '',
        auditHead: h(AUDIT_HEAD_HEADER),
        omitted: h(DLQ_HEADERS.OMITTED),
        valueSha256: h(DLQ_HEADERS.VALUE_SHA256),
        at: now,
      });
      this.deadLetters.set(at, list);
    } else if (m.topic === TOPICS.AUDIT && m.value?.includes(this.topicBytes)) {
      this.pendingAudit.push(m.value);
    }
  }

  /** Decodes the audit events observed since the last call. */
  async settle(): Promise<void> {
    for (const value of this.pendingAudit.splice(0)) {
      const e = await this.decodeAudit(value);
      if (e.source?.topic !== this.topic) continue;
      const at = position(e.source.partition, e.source.offset);
      const list = this.audits.get(at) ?? [];
      list.push({
        action: e.action,
        category: e.error_category,
        code: e.details['error_code'] ?? null,
        eventHash: e.event_hash,
        previousHash: e.previous_event_hash,
      });
      this.audits.set(at, list);
    }
  }

  /** Dead letters of the record at a position. */
  deadLettersAt(partition: number, offset: number): DeadLetterSeen[] {
    return this.deadLetters.get(position(partition, offset)) ?? [];
  }

  /** Audit events of the record at a position. */
  auditsAt(partition: number, offset: number): AuditSeen[] {
    return this.audits.get(position(partition, offset)) ?? [];
  }
}

/** Where a produced record landed. */
export interface Placed {
  partition: number;
  offset: number;
  producedAt: number;
}

/**
 * Produces records one at a time to explicit partitions of a fresh topic
 * (nobody else writes to it), so each record's offset is known without
 * reading it back: a dead letter names its input by source offset.
 */
export class PlacingProducer {
  private readonly next = new Map<number, number>();

  constructor(
    private readonly io: TopicIO,
    readonly topic: string,
  ) {}

  /** Sends one record to `partition` and says where it landed. */
  async send(
    partition: number,
    message: Omit<OutgoingMessage, 'partition'>,
    compression?: 'gzip',
  ): Promise<Placed> {
    const producedAt = Date.now();
    await this.io.produce(
      this.topic,
      [{ ...message, partition }],
      compression ? { compression } : {},
    );
    const offset = this.next.get(partition) ?? 0;
    this.next.set(partition, offset + 1);
    return { partition, offset, producedAt };
  }
}
