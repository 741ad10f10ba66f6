import { GRANTCTL_STAGE, planRedrive, type RedrivePlan } from '@grantstream/dead-letters';
import type { PlatformClients, ReadMessage } from '@grantstream/kafka';
import type { Projector, ReadModelStore, StoredDeadLetter } from '@grantstream/read-model';

/** Sends dead letters back for an operator, or says why not. */
export interface Redriver {
  /** What a redrive would do now, sending nothing (the dry run the page shows before confirming). */
  preview(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedrivePlan>;
  /** Redrives: the message and its REDRIVEN event in one transaction, or the refusal. */
  redrive(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedrivePlan>;
}

/** What {@link ConsoleRedriver} writes with and where. */
export interface ConsoleRedriverOptions {
  clients: Pick<PlatformClients, 'io' | 'serde'>;
  store: ReadModelStore;
  projector: Pick<Projector, 'measure'>;
  deadLetterTopic: string;
  auditTopic: string;
  refuseCategories: readonly string[];
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
 * The console's redrive, with grantctl's rules (planRedrive of
 * libs/dead-letters). Dead letters already redriven are known from the
 * REDRIVEN events in the read model, by grantctl or the console alike (both
 * record them under the grantctl stage), so the model must have read the
 * audit topic to its end first: a redrive is refused while it is behind.
 * Redrives are one at a time in this process, so a double submit cannot
 * send a dead letter twice before its event is read back.
 */
export class ConsoleRedriver implements Redriver {
  private readonly sentHere = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConsoleRedriverOptions) {}

  private async plan(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedrivePlan> {
    const o = this.options;
    const lag = await o.projector.measure();
    const behind = lag.topics.find((t) => t.topic === o.auditTopic)?.lag ?? 0;
    const message = messageOf(d, o.deadLetterTopic);
    const redriven = new Set([
      ...o.store.redrivenPositions(o.deadLetterTopic, GRANTCTL_STAGE),
      ...this.sentHere,
    ]);
    const plan = planRedrive(
      message,
      {
        deadLetterTopic: o.deadLetterTopic,
        refuseCategories: o.refuseCategories,
        force,
        alreadyRedriven: redriven,
      },
      { operator, occurredAt: o.now(), service: o.service },
      o.auditTopic,
    );
    if (plan.kind === 'send' && behind > 0) {
      return {
        kind: 'refused',
        entry: plan.entry,
        reason: `the console has not read ${behind} audit record(s) yet, so it cannot tell whether this was already redriven: try again in a moment`,
      };
    }
    return plan;
  }

  preview(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedrivePlan> {
    return this.plan(d, force, operator);
  }

  redrive(d: StoredDeadLetter, force: boolean, operator: string): Promise<RedrivePlan> {
    const run = this.queue.then(async () => {
      const plan = await this.plan(d, force, operator);
      if (plan.kind !== 'send') return plan;
      const o = this.options;
      const audit = plan.audit.record;
      await o.clients.io.produceAtomically(o.transactionalId, [
        { topic: plan.toTopic, messages: [plan.message] },
        {
          topic: audit.topic,
          messages: [
            { key: audit.key, value: await o.clients.serde.encode(audit.topic, audit.value) },
          ],
        },
      ]);
      this.sentHere.add(plan.entry.position);
      return plan;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
