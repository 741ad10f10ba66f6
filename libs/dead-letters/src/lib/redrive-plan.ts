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
    };

/**
 * The redrive of one dead letter that carries its value, under the same
 * rules as `grantctl dlq redrive` (once; refused categories only when
 * forced; never back to the dead-letter topic): the message for its source
 * topic and the REDRIVEN audit event naming the operator, which the caller
 * commits together. A dead letter whose value sits in the dead-letter store
 * is refused here: the bytes must be read back and checked first, which
 * `grantctl dlq redrive` does.
 */
export function planRedrive(
  m: ReadMessage,
  policy: RedrivePolicy,
  actor: RedriveActor,
  auditTopic: string,
): RedrivePlan {
  const entry = describeDeadLetter(m);
  const refusal = redriveRefusal(entry, policy);
  if (refusal !== null) return { kind: 'refused', entry, reason: refusal };
  if (entry.valueRef !== null) {
    return {
      kind: 'refused',
      entry,
      reason:
        'its value is in the dead-letter store: redrive it with grantctl dlq redrive, which reads it back and checks its hash',
    };
  }
  if (entry.source === null)
    return { kind: 'refused', entry, reason: 'no source position in its headers' };
  const audit = redriveAuditRecord(entry, m, actor, auditTopic);
  return {
    kind: 'send',
    entry,
    toTopic: entry.source.topic,
    message: redrivenMessage(entry, m, audit.headHeaders),
    audit,
  };
}
