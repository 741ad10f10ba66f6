import {
  SubmissionContentStateV1Avro,
  TOPICS,
  type SubmissionContentStateV1,
} from '@grantstream/contracts';
import { ConfigError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import {
  TopicScanner,
  type OutboundRecord,
  type PlatformClients,
  type ScanOptions,
} from '@grantstream/kafka';
import { withAccepted, type AcceptedContent } from './domain/content-decision';

/** What {@link ContentStateStore} needs, from validated config and the stage's clients. */
export interface ContentStateOptions {
  /** The compacted changelog topic (grants.submission.content-state.v1 unless configured). */
  topic: string;
  /** Accepted contents kept per grant, oldest dropped first. */
  maxContentsPerGrant: number;
  /** How a restore reads a changelog partition: bytes per fetch bound its memory. */
  restore: Omit<ScanOptions, 'from' | 'partitions'>;
  clients: Pick<PlatformClients, 'kafka' | 'serde' | 'admin'>;
  logger: GrantLogger;
}

/**
 * Submission's state, grant id → the contents it accepted for filing, kept in
 * a compacted changelog topic co-partitioned with grants.routed.v1 (same key,
 * same partition count): the state of routed partition p is changelog
 * partition p. Every change is an output record of the hop that decided it,
 * so it commits in that hop's transaction with the offsets; the runner calls
 * {@link prepare} when it (re)starts a routed partition's transactional
 * producer, after fencing, and the partition's state is read back from the
 * changelog up to its end. In memory meanwhile: one entry per grant of the
 * partitions this replica owns, each at most `maxContentsPerGrant` long.
 */
export class ContentStateStore {
  private readonly partitions = new Map<number, Map<string, AcceptedContent[]>>();
  private coPartitioned: Promise<void> | null = null;

  constructor(private readonly options: ContentStateOptions) {}

  /** The runner's PartitionPreparer: restores a routed partition's state; other inputs keep none. */
  async prepare(input: { topic: string; partition: number }, signal: AbortSignal): Promise<void> {
    if (input.topic !== TOPICS.ROUTED) return;
    this.coPartitioned ??= this.checkCoPartitioned();
    await this.coPartitioned;
    const started = Date.now();
    const state = new Map<string, AcceptedContent[]>();
    const scanner = new TopicScanner(this.options.clients.kafka);
    let records = 0;
    try {
      for await (const m of scanner.scan(this.options.topic, {
        ...this.options.restore,
        partitions: [input.partition],
      })) {
        signal.throwIfAborted();
        records += 1;
        const grantId = m.key?.toString();
        if (grantId === undefined) continue;
        if (m.value === null) {
          state.delete(grantId);
          continue;
        }
        const { value } = await this.options.clients.serde.decodeAs<SubmissionContentStateV1>(
          m.value,
          SubmissionContentStateV1Avro,
        );
        state.set(
          grantId,
          value.accepted.map((a) => ({
            contentHash: a.content_hash,
            bodyHash: a.body_hash,
            auditTrailId: a.audit_trail_id,
            idempotencyKey: a.idempotency_key,
            acceptedAt: a.accepted_at,
          })),
        );
      }
    } finally {
      await scanner.close();
    }
    this.partitions.set(input.partition, state);
    this.options.logger.info(
      {
        topic: this.options.topic,
        partition: input.partition,
        records,
        grants: state.size,
        ms: Date.now() - started,
      },
      'content state restored',
    );
  }

  /** The contents accepted for a grant of a routed partition, oldest first. */
  historyOf(partition: number, grantId: string): readonly AcceptedContent[] {
    return this.partitions.get(partition)?.get(grantId) ?? [];
  }

  /**
   * Records `content` as accepted for a grant and returns the changelog record
   * that must be produced in the same transaction as the decision. The
   * in-memory state changes at once, so a second copy in the same chunk is
   * already judged against it; if the transaction aborts, the runner prepares
   * the partition again and the state is read back from what committed.
   */
  accept(partition: number, grantId: string, content: AcceptedContent): OutboundRecord {
    let state = this.partitions.get(partition);
    if (!state) {
      state = new Map();
      this.partitions.set(partition, state);
    }
    const accepted = withAccepted(
      state.get(grantId) ?? [],
      content,
      this.options.maxContentsPerGrant,
    );
    state.set(grantId, accepted);
    const value: SubmissionContentStateV1 = {
      grant_id: grantId,
      accepted: accepted.map((a) => ({
        content_hash: a.contentHash,
        body_hash: a.bodyHash,
        audit_trail_id: a.auditTrailId,
        idempotency_key: a.idempotencyKey,
        accepted_at: a.acceptedAt,
      })),
    };
    return { topic: this.options.topic, key: grantId, value };
  }

  /**
   * The state of routed partition p is changelog partition p only when both
   * topics have as many partitions (the default partitioner maps the grant id
   * key alike); otherwise a restore would miss grants, so refuse to start.
   */
  private async checkCoPartitioned(): Promise<void> {
    const topics = await this.options.clients.admin.describeTopics(
      [TOPICS.ROUTED, this.options.topic],
      [],
    );
    const routed = topics.get(TOPICS.ROUTED)?.partitions;
    const changelog = topics.get(this.options.topic)?.partitions;
    if (changelog === undefined || routed !== changelog) {
      this.coPartitioned = null;
      throw new ConfigError([
        changelog === undefined
          ? `submission.contentState.topic: ${this.options.topic} does not exist (grantctl topics apply)`
          : `submission.contentState.topic: ${this.options.topic} has ${changelog} partitions, ${TOPICS.ROUTED} has ${routed ?? 0}: they must be equal`,
      ]);
    }
  }
}
