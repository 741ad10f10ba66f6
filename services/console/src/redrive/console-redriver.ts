import {
  GRANTCTL_STAGE,
  redriveDeadLetters,
  type RedriveOutcome,
  type RedriveReport,
  type RedriveWriter,
} from '@grantstream/dead-letters';
import type { PlatformClients, ReadMessage } from '@grantstream/kafka';
import type { Projector, ReadModelStore, StoredDeadLetter } from '@grantstream/read-model';

/** Sends dead letters back for an operator, or says why not. */
export interface Redriver {
  /** What a redrive would do now, sending nothing (the dry run the page shows before confirming). */
  preview(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedriveOutcome>;
  /** Redrives: the message and its REDRIVEN event in one transaction, or the refusal. */
  redrive(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedriveOutcome>;
  /** The dry run of a set: which would go and which are refused, and why. */
  previewSet(
    letters: readonly StoredDeadLetter[],
    force: boolean,
    operator: string,
  ): Promise<RedriveReport>;
  /**
   * Redrives a set, each with its REDRIVEN event; refused ones are reported,
   * not sent. A fresh dry run is taken first, and nothing is sent (null)
   * unless `confirmed` accepts it: the set sent is the set previewed.
   */
  redriveSet(
    letters: readonly StoredDeadLetter[],
    force: boolean,
    operator: string,
    confirmed: (preview: RedriveReport) => boolean,
  ): Promise<RedriveReport | null>;
}

/** What {@link ConsoleRedriver} writes with and where. */
export interface ConsoleRedriverOptions {
  clients: Pick<PlatformClients, 'io' | 'serde'>;
  store: ReadModelStore;
  projector: Pick<Projector, 'measure'>;
  deadLetterTopic: string;
  auditTopic: string;
  refuseCategories: readonly string[];
  /** Dead letters per transaction (dlq.redriveBatchSize, as grantctl's). */
  batchSize: number;
  /** The console's own transactional id: grantctl's would fence it (and be fenced by it). */
  transactionalId: string;
  service: { name: string; version: string };
  now(): number;
}

/** The stored dead letter as the record it was read as. */
function messageOf(d: StoredDeadLetter, topic: string): ReadMessage {
  return {
    topic,
    partition: d.partition,
    offset: d.offset,
    key: d.key,
    value: d.value,
    headers: Object.fromEntries(d.headers.map((h) => [h.name, Buffer.from(h.base64, 'base64')])),
    timestamp: '0',
  };
}

/**
 * The console's redrive: grantctl's, the one implementation in
 * libs/dead-letters (redriveDeadLetters). Dead letters already redriven are
 * known from the REDRIVEN events in the read model, by grantctl or the
 * console alike (both record them under the grantctl stage), so the model
 * must have read the audit topic to its end first: a redrive is refused
 * while it is behind. Redrives run one at a time in this process and every
 * committed one is remembered at once, so a double submit cannot send a
 * dead letter twice before its event is read back. The console cannot read
 * the dead-letter store: a value kept there is redriven with grantctl.
 */
export class ConsoleRedriver implements Redriver {
  private readonly sentHere = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly writer: RedriveWriter;

  constructor(private readonly options: ConsoleRedriverOptions) {
    const { io, serde } = options.clients;
    this.writer = {
      produceAtomically: (id, batches, o) => io.produceAtomically(id, batches, o),
      encode: (topic, value) => serde.encode(topic, value),
    };
  }

  private async run(
    letters: readonly StoredDeadLetter[],
    force: boolean,
    operator: string,
    dryRun: boolean,
  ): Promise<RedriveReport> {
    const o = this.options;
    const lag = await o.projector.measure();
    const behind = lag.topics.find((t) => t.topic === o.auditTopic)?.lag ?? 0;
    const report = await redriveDeadLetters(
      letters.map((d) => messageOf(d, o.deadLetterTopic)),
      {
        deadLetterTopic: o.deadLetterTopic,
        refuseCategories: o.refuseCategories,
        force,
        alreadyRedriven: new Set([
          ...o.store.redrivenPositions(o.deadLetterTopic, GRANTCTL_STAGE),
          ...this.sentHere,
        ]),
        operator,
        service: o.service,
        now: () => o.now(),
        auditTopic: o.auditTopic,
        transactionalId: o.transactionalId,
        batchSize: o.batchSize,
        dryRun: dryRun || behind > 0,
        writer: this.writer,
        onCommitted: (sent) => sent.forEach((s) => this.sentHere.add(s.entry.position)),
      },
    );
    if (behind === 0) return report;
    const reason = `the console has not read ${behind} audit record(s) yet, so it cannot tell whether this was already redriven: try again in a moment`;
    return {
      redriven: [],
      skipped: [
        ...report.redriven.map((r) => ({
          kind: 'refused' as const,
          entry: r.entry,
          reason,
          unreadable: false,
        })),
        ...report.skipped,
      ],
    };
  }

  /** Runs after every redrive queued before it: one at a time in this process. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private static only(report: RedriveReport): RedriveOutcome {
    const outcome = report.redriven[0] ?? report.skipped[0];
    if (!outcome) throw new Error('a redrive of one dead letter reported none');
    return outcome;
  }

  async preview(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedriveOutcome> {
    return ConsoleRedriver.only(await this.run([d], force, operator, true));
  }

  async redrive(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedriveOutcome> {
    return ConsoleRedriver.only(await this.serialised(() => this.run([d], force, operator, false)));
  }

  previewSet(
    letters: readonly StoredDeadLetter[],
    force: boolean,
    operator: string,
  ): Promise<RedriveReport> {
    return this.run(letters, force, operator, true);
  }

  redriveSet(
    letters: readonly StoredDeadLetter[],
    force: boolean,
    operator: string,
    confirmed: (preview: RedriveReport) => boolean,
  ): Promise<RedriveReport | null> {
    // The check and the send in one turn of the queue: no other redrive of
    // this process can change the set between them.
    return this.serialised(async () =>
      confirmed(await this.run(letters, force, operator, true))
        ? this.run(letters, force, operator, false)
        : null,
    );
  }
}
