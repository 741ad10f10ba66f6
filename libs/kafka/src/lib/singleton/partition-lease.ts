import { EventEmitter } from 'node:events';
import {
  AssignerProtocol,
  type Consumer,
  type Kafka,
  type PartitionAssigner,
} from '@grantstream/kafkajs-extended';
import type { GrantLogger } from '@grantstream/logging';

/** Options of {@link PartitionLease}. */
export interface PartitionLeaseOptions {
  /** The group the replicas share; its member holding the topic's partitions holds the lease. */
  groupId: string;
  /** A topic with (ideally) one partition: holding it is holding the lease. */
  topic: string;
  /** A member that stops heartbeating (killed, partitioned) loses the lease after this long. */
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** How long a fetch of the lease topic waits: an idle member heartbeats between fetches. */
  maxWaitTimeMs: number;
  logger: GrantLogger;
}

/** What {@link PartitionLease} reports. */
export interface PartitionLeaseEvents {
  /** This member now holds the lease. */
  acquired: [];
  /** This member no longer holds it (reassigned, crashed consumer, stopped). */
  lost: [];
}

const ASSIGNER_NAME = 'GrantstreamLease';
const ASSIGNER_VERSION = 1;
const HOLDER = Buffer.from('holder');
const NOT_HOLDER = Buffer.alloc(0);

/**
 * An assigner that gives every partition of the lease topic to one member:
 * the one that says it already holds them (so a standby joining does not
 * move the lease), else the first member by id.
 */
function leaseAssigner(isHolder: () => boolean): PartitionAssigner {
  return ({ cluster }) => ({
    name: ASSIGNER_NAME,
    version: ASSIGNER_VERSION,
    assign({ members, topics }) {
      const holders = members
        .filter((m) => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          return meta?.userData !== undefined && HOLDER.equals(meta.userData);
        })
        .map((m) => m.memberId)
        .sort();
      const chosen = holders[0] ?? members.map((m) => m.memberId).sort()[0];
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) {
        assignment[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      }
      return Promise.resolve(
        members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: ASSIGNER_VERSION,
            assignment: m.memberId === chosen ? assignment : {},
            userData: NOT_HOLDER,
          }),
        })),
      );
    },
    protocol({ topics }) {
      return {
        name: ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: ASSIGNER_VERSION,
          topics,
          userData: isHolder() ? HOLDER : NOT_HOLDER,
        }),
      };
    },
  });
}

/**
 * A lease held through consumer-group membership: the replicas of a
 * singleton service join one group on one topic, and the member assigned its
 * partitions holds the lease. The broker's group coordinator is the arbiter,
 * so no extra system is needed, and a holder that dies (kill -9, lost
 * network) loses the lease once its session times out; a standby is then
 * assigned and told.
 *
 * A lease is not a lock: a holder that stalls may still believe it holds it
 * after the group moved on. What the holder writes must therefore be fenced
 * as well (a transactional id the new holder initialises, see
 * {@link FencedTransactionalWriter}); the lease only decides who should work.
 */
export class PartitionLease extends EventEmitter<PartitionLeaseEvents> {
  private consumer: Consumer | null = null;
  private holding = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: PartitionLeaseOptions,
  ) {
    super();
  }

  /** Whether this member holds the lease now. */
  get held(): boolean {
    return this.holding;
  }

  private set(held: boolean): void {
    if (held === this.holding) return;
    this.holding = held;
    this.options.logger.info(
      { lease: this.options.groupId, held },
      held ? 'lease acquired' : 'lease lost',
    );
    this.emit(held ? 'acquired' : 'lost');
  }

  /** Joins the group; resolves once the consumer runs (the lease may come later, or never). */
  async start(): Promise<void> {
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      partitionAssigners: [leaseAssigner(() => this.holding)],
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.set((payload.memberAssignment[o.topic]?.length ?? 0) > 0);
    });
    // A crashed consumer has left the group (or will, at its session timeout):
    // whatever kafkajs does next, this member must not act as the holder.
    consumer.on(consumer.events.CRASH, () => this.set(false));
    consumer.on(consumer.events.STOP, () => this.set(false));
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: false });
    // The records are not this consumer's business: fetching only keeps the
    // membership alive (heartbeats ride on the fetch loop), nothing is committed.
    await consumer.run({ autoCommit: false, eachBatch: () => Promise.resolve() });
    this.consumer = consumer;
  }

  /** Leaves the group (the lease moves to a standby at once, not after a timeout). */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.set(false);
    await consumer?.disconnect();
  }
}
