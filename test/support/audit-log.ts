import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MerkleLog,
  auditLeafFieldsOf,
  auditLeafHash,
  checkpointKeyOf,
  checkpointRecordOf,
  orderBatchKeyOf,
  orderBatchRecordOf,
  signCheckpoint,
  type LogOrderBatch,
  type LogOrderEntry,
  type NoteSigner,
} from '@grantstream/audit';
import {
  AuditCheckpointV1Avro,
  AuditEventV1Avro,
  AuditEventV1Schema,
} from '@grantstream/contracts';
import { TopicScanner, type PlatformClients } from '@grantstream/kafka';
import { testConfig, uniqueName } from '@grantstream/testing';
import { LogOrderBatchV1Avro } from '@grantstream/contracts';
import { createAuditTopic } from './audit';

/** A scenario's own audit topic, order topic, checkpoint topic and witness directory. */
export interface LogTopics {
  readonly audit: string;
  readonly order: string;
  readonly checkpoints: string;
  readonly witness: string;
}

/** A one-partition, forever-retained, never-compacted topic, shaped like the order and checkpoint topics. */
async function createLogTopic(
  clients: PlatformClients,
  name: string,
  schema: Parameters<PlatformClients['serde']['register']>[1],
): Promise<string> {
  const topic = uniqueName(name);
  await clients.admin.createTopics([
    {
      name: topic,
      partitions: 1,
      replicationFactor: 1,
      config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' },
      valueSchema: null,
    },
  ]);
  await clients.serde.register(topic, schema, testConfig().topics.compatibility);
  return topic;
}

/** Creates the scenario's audit, order and checkpoint topics and a witness directory. */
export async function createLogTopics(
  clients: PlatformClients,
  name: string,
  auditConfig: Record<string, string> = {},
): Promise<LogTopics> {
  return {
    audit: await createAuditTopic(clients, name, auditConfig),
    order: await createLogTopic(clients, `test.audit-order.${name}`, LogOrderBatchV1Avro),
    checkpoints: await createLogTopic(
      clients,
      `test.audit-checkpoints.${name}`,
      AuditCheckpointV1Avro,
    ),
    witness: mkdtempSync(join(tmpdir(), `witness-${name}-`)),
  };
}

/** A checkpoint as the scenario published it. */
export interface PublishedCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  readonly note: string;
}

/**
 * Does in a scenario what the checkpointer service does: reads the audit
 * topic read_committed from where it stopped, appends every committed record
 * with a value to the Merkle log, records the order in batches on the order
 * topic, and signs a checkpoint every `everyLeaves` leaves (and at the end of
 * each catch-up) to the checkpoint topic and the witness directory.
 */
export class ScenarioCheckpointer {
  readonly log = new MerkleLog();
  /** Every leaf appended, in order: scenarios forge other histories from it. */
  readonly entries: LogOrderEntry[] = [];
  readonly published: PublishedCheckpoint[] = [];
  private readonly next = new Map<number, string>();
  private pending: LogOrderEntry[] = [];
  private lastCheckpointed = 0;

  constructor(
    private readonly clients: PlatformClients,
    private readonly topics: LogTopics,
    private readonly signer: NoteSigner,
    private readonly options: { everyLeaves: number; batchEntries: number },
  ) {}

  /**
   * Logs every record the audit topic gained since the last call and returns
   * the leaves added; `checkpoint: false` records the order but signs nothing.
   */
  async catchUp(options: { checkpoint: boolean } = { checkpoint: true }): Promise<number> {
    const scanner = new TopicScanner(this.clients.kafka);
    const before = this.log.size;
    try {
      for await (const m of scanner.scan(this.topics.audit, {
        ...testConfig().audit,
        from: this.next,
      })) {
        this.next.set(m.partition, (BigInt(m.offset) + 1n).toString());
        if (m.value === null) continue;
        const decoded = await this.clients.serde.decodeAs(m.value, AuditEventV1Avro);
        const event = AuditEventV1Schema.parse(decoded.value);
        const fields = auditLeafFieldsOf(m.key?.toString() ?? '', event);
        const entry = { ...fields, partition: m.partition, offset: m.offset };
        this.log.appendLeafHash(auditLeafHash(entry));
        this.entries.push(entry);
        this.pending.push(entry);
        if (this.pending.length >= this.options.batchEntries) await this.flush();
        if (
          options.checkpoint &&
          this.log.size - this.lastCheckpointed >= this.options.everyLeaves
        ) {
          await this.flush();
          await this.checkpoint();
        }
      }
      await this.flush();
      if (options.checkpoint && this.log.size > this.lastCheckpointed) await this.checkpoint();
    } finally {
      await scanner.close();
    }
    return this.log.size - before;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch: LogOrderBatch = {
      firstIndex: this.log.size - this.pending.length,
      entries: this.pending,
    };
    this.pending = [];
    const value = await this.clients.serde.encode(
      this.topics.order,
      orderBatchRecordOf(this.signer.name, batch),
    );
    await this.clients.io.produce(this.topics.order, [
      { key: orderBatchKeyOf(batch.firstIndex), value },
    ]);
  }

  private async checkpoint(): Promise<void> {
    const size = this.log.size;
    const root = this.log.root();
    const note = signCheckpoint(
      { origin: this.signer.name, size, rootHash: root, time: new Date() },
      this.signer,
    );
    await publishCheckpoint(this.clients, this.topics, size, note);
    this.published.push({ size, root, note });
    this.lastCheckpointed = size;
  }
}

/** Publishes a signed note to the checkpoint topic and, write-once, to the witness directory. */
export async function publishCheckpoint(
  clients: PlatformClients,
  topics: LogTopics,
  size: number,
  note: string,
  options: { witness: boolean } = { witness: true },
): Promise<void> {
  const value = await clients.serde.encode(topics.checkpoints, checkpointRecordOf(size, note));
  await clients.io.produce(topics.checkpoints, [{ key: checkpointKeyOf(size), value }]);
  if (options.witness)
    writeFileSync(join(topics.witness, `checkpoint-${size}`), note, { flag: 'wx' });
}

/** The root of the tree over these leaves: a scenario forging another history signs it. */
export function rootOf(entries: readonly LogOrderEntry[]): Buffer {
  const log = new MerkleLog();
  for (const entry of entries) log.appendLeafHash(auditLeafHash(entry));
  return log.root();
}
