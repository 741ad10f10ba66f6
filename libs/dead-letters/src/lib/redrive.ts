import type { OutgoingMessage, ReadMessage } from '@grantstream/kafka';
import { describeDeadLetter, redriveRefusal, type DeadLetterEntry } from './dead-letters';
import { planRedrive } from './redrive-plan';

/**
 * What a redrive writes with: one transaction per batch (the messages and
 * their REDRIVEN events commit or abort together) and the audit event's
 * encoding. `PlatformClients`' `io.produceAtomically` and `serde.encode`.
 */
export interface RedriveWriter {
  produceAtomically(
    transactionalId: string,
    batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[],
    options?: { compression?: 'gzip' },
  ): Promise<void>;
  encode(topic: string, value: unknown): Promise<Buffer>;
}

/** Everything one redrive run needs: the rules, who redrives, where to and how. */
export interface RedriveOptions {
  deadLetterTopic: string;
  /** Categories refused unless `force` (dlq.refuseCategories). */
  refuseCategories: readonly string[];
  force: boolean;
  /**
   * Positions of the dead-letter topic some earlier redrive sent back, read
   * from the REDRIVEN audit events: each is refused, so a dead letter goes
   * back once whoever redrives it.
   */
  alreadyRedriven: ReadonlySet<string>;
  /** Recorded on each REDRIVEN event. */
  operator: string;
  service: { name: string; version: string };
  now(): number;
  auditTopic: string;
  /** The redriving process's own transactional id: a second run with it fences this one. */
  transactionalId: string;
  /** Dead letters per transaction at most. */
  batchSize: number;
  /** Say what would go, send nothing. */
  dryRun: boolean;
  writer: RedriveWriter;
  /**
   * Reads back the value of a dead letter too large for the broker from the
   * dead-letter store, checked against its SHA-256 (throws when missing or
   * altered). Absent, such dead letters are refused.
   */
  readStored?(ref: { uri: string; sha256: string }): Promise<Buffer>;
  /** Called once a transaction has committed, with the dead letters it sent back. */
  onCommitted?(sent: readonly RedrivenLetter[]): void;
}

/** A dead letter sent back (or, in a dry run, that would be). */
export interface RedrivenLetter {
  kind: 'send';
  entry: DeadLetterEntry;
  toTopic: string;
  /** The redrive count the message carries now. */
  redriveCount: number;
  /** The REDRIVEN audit event's id. */
  eventId: string;
}

/** A dead letter not sent back, and why. */
export interface RefusedLetter {
  kind: 'refused';
  entry: DeadLetterEntry;
  reason: string;
  /** Its value is in the dead-letter store but could not be read back or did not match its hash. */
  unreadable: boolean;
}

/** What a redrive of one dead letter did: sent or refused. */
export type RedriveOutcome = RedrivenLetter | RefusedLetter;

/** What a redrive run did, in the order the dead letters came. */
export interface RedriveReport {
  redriven: RedrivenLetter[];
  skipped: RefusedLetter[];
}

/**
 * Redrives dead letters under the one set of rules `grantctl dlq redrive`
 * and the console share: each goes back to the topic it failed on at most
 * once (the positions in `alreadyRedriven`, and any sent earlier in this
 * run, are refused), refused categories only when forced, never back to the
 * dead-letter topic, a stored value only when it reads back intact. Each
 * message commits in one transaction with its REDRIVEN audit event naming
 * the operator, `batchSize` dead letters per transaction; a value read back
 * from the store goes alone, gzip-compressed. A failed transaction aborts
 * and the error propagates: what `onCommitted` was told about is sent, the
 * rest is not.
 */
export async function redriveDeadLetters(
  letters: AsyncIterable<ReadMessage> | Iterable<ReadMessage>,
  o: RedriveOptions,
): Promise<RedriveReport> {
  const report: RedriveReport = { redriven: [], skipped: [] };
  const sent = new Set(o.alreadyRedriven);
  const policy = {
    deadLetterTopic: o.deadLetterTopic,
    refuseCategories: o.refuseCategories,
    force: o.force,
    alreadyRedriven: sent,
  };
  let batch = new Map<string, OutgoingMessage[]>();
  let pending: RedrivenLetter[] = [];
  const flush = async (compression?: 'gzip') => {
    if (pending.length === 0) return;
    if (!o.dryRun) {
      await o.writer.produceAtomically(
        o.transactionalId,
        [...batch].map(([topic, messages]) => ({ topic, messages })),
        compression ? { compression } : {},
      );
    }
    report.redriven.push(...pending);
    if (!o.dryRun) o.onCommitted?.(pending);
    batch = new Map();
    pending = [];
  };
  const add = (topic: string, message: OutgoingMessage) => {
    const messages = batch.get(topic);
    if (messages) messages.push(message);
    else batch.set(topic, [message]);
  };
  const refuse = (entry: DeadLetterEntry, reason: string, unreadable = false) =>
    report.skipped.push({ kind: 'refused', entry, reason, unreadable });

  for await (const m of letters) {
    const entry = describeDeadLetter(m);
    // Refused ones are decided before the store is read: a refusal costs no I/O.
    const refusal = redriveRefusal(entry, policy);
    if (refusal !== null) {
      refuse(entry, refusal);
      continue;
    }
    let original: { value: Buffer } | undefined;
    const ref = entry.valueRef;
    if (ref?.uri && ref.sha256 && o.readStored) {
      try {
        original = { value: await o.readStored({ uri: ref.uri, sha256: ref.sha256 }) };
      } catch (err) {
        refuse(entry, `its stored value cannot be resent: ${(err as Error).message}`, true);
        continue;
      }
    }
    const plan = planRedrive(
      m,
      policy,
      { operator: o.operator, occurredAt: o.now(), service: o.service },
      o.auditTopic,
      original,
    );
    if (plan.kind === 'refused') {
      refuse(entry, plan.reason);
      continue;
    }
    if (plan.alone) await flush();
    const audit = plan.audit.record;
    add(plan.toTopic, plan.message);
    add(audit.topic, { key: audit.key, value: await o.writer.encode(audit.topic, audit.value) });
    pending.push({
      kind: 'send',
      entry,
      toTopic: plan.toTopic,
      redriveCount: entry.redriveCount + 1,
      eventId: audit.value.event_id,
    });
    // Once per run too: the same position twice in `letters` goes back once.
    sent.add(entry.position);
    if (plan.alone) await flush('gzip');
    else if (pending.length >= o.batchSize) await flush();
  }
  await flush();
  return report;
}
