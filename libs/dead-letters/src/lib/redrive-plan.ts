import type { StageAuditRecord } from '@grantstream/audit';
import type { OutgoingMessage, ReadMessage } from '@grantstream/kafka';
import {
  describeDeadLetter,
  redriveAuditRecord,
  redriveRefusal,
  redrivenMessage,
  type DeadLetterEntry,
  type RedrivePolicy,
} from './dead-letters';

/** Who redrives and when: recorded on the REDRIVEN audit event. */
export interface RedriveActor {
  operator: string;
  occurredAt: number;
  service: { name: string; version: string };
}

/** What redriving one dead letter would do, or why it is refused. */
export type RedrivePlan =
  | { kind: 'refused'; entry: DeadLetterEntry; reason: string }
  | {
      kind: 'send';
      entry: DeadLetterEntry;
      /** The source topic the message goes back to. */
      toTopic: string;
      message: OutgoingMessage;
      /** The REDRIVEN event, to commit in the same transaction as the message. */
      audit: StageAuditRecord;
      /**
       * The value was read back from the dead-letter store: too large to
       * carry, it goes in a transaction of its own, gzip-compressed, as it
       * most likely arrived (uncompressed, the broker would refuse it).
       */
      alone: boolean;
    };

/** Why a dead letter whose value sits in the dead-letter store is refused where the store is not read. */
export const STORED_VALUE_NOT_READ =
  'its value is in the dead-letter store: redrive it with grantctl dlq redrive, which reads it back and checks its hash';

/**
 * The redrive of one dead letter, under the rules of `grantctl dlq redrive`
 * (once; refused categories only when forced; never back to the dead-letter
 * topic): the message for its source topic and the REDRIVEN audit event
 * naming the operator, which the caller commits together. A dead letter
 * whose value sits in the dead-letter store needs `original`, the bytes read
 * back and checked against their SHA-256; without them it is refused.
 */
export function planRedrive(
  m: ReadMessage,
  policy: RedrivePolicy,
  actor: RedriveActor,
  auditTopic: string,
  original?: { value: Buffer },
): RedrivePlan {
  const entry = describeDeadLetter(m);
  const refusal = redriveRefusal(entry, policy);
  if (refusal !== null) return { kind: 'refused', entry, reason: refusal };
  if (entry.valueRef !== null && original === undefined) {
    return { kind: 'refused', entry, reason: STORED_VALUE_NOT_READ };
  }
  if (entry.source === null)
    return { kind: 'refused', entry, reason: 'no source position in its headers' };
  const value = entry.valueRef !== null && original ? original.value : m.value;
  // The event hashes the bytes that go back, which for a stored value are not the dead letter's.
  const audit = redriveAuditRecord(entry, { ...m, value }, actor, auditTopic);
  return {
    kind: 'send',
    entry,
    toTopic: entry.source.topic,
    message: redrivenMessage(entry, m, audit.headHeaders, value),
    audit,
    alone: entry.valueRef !== null,
  };
}
