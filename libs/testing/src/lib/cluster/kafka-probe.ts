import { connect } from 'node:net';
import { ClusterFaultError } from '@grantstream/errors';
import {
  ApiKey,
  FrameSplitter,
  WireWriter,
  readResponseCorrelationId,
  requestFrame,
  responseBody,
  type WireReader,
} from './kafka-wire';

/** A partition as the cluster's metadata describes it. */
export interface PartitionState {
  topic: string;
  partition: number;
  /** -1 while the partition has no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

/** The brokers the metadata lists (the live ones) and the partitions asked for. */
export interface ClusterMetadata {
  brokers: number[];
  partitions: PartitionState[];
}

/** Options of {@link KafkaProbe}. */
export interface KafkaProbeOptions {
  /** The nodes' plain client addresses (host:port), tried in order. */
  addresses: readonly string[];
  /** One request's whole round trip, connection included. */
  requestTimeoutMs: number;
  /** Largest response frame accepted. */
  maxFrameBytes: number;
  clientId: string;
}

const COORDINATOR_TYPES = { group: 0, transaction: 1 } as const;
/** The KRaft metadata log's topic, the one partition DescribeQuorum reports on. */
const METADATA_LOG = '__cluster_metadata';

/**
 * Asks the cluster which node holds which role, in the protocol's own terms:
 * Metadata for partition leaders and ISRs, FindCoordinator for the group and
 * transaction coordinators, DescribeQuorum for the active controller (KRaft's
 * metadata-log leader; Metadata's controller id is a random broker under
 * KRaft). Each question goes to the first node that answers, on a fresh
 * connection, so a node that is down or frozen costs one timeout and no
 * client state.
 */
export class KafkaProbe {
  private correlationId = 0;

  constructor(private readonly o: KafkaProbeOptions) {}

  /** Live brokers and the partitions of `topics` (every topic, internal ones included, when null). */
  async metadata(topics: readonly string[] | null): Promise<ClusterMetadata> {
    const body = new WireWriter();
    if (topics === null) body.int32(-1);
    else {
      body.int32(topics.length);
      for (const t of topics) body.string(t);
    }
    // Metadata v1: the oldest version Kafka 4 answers, and all that is needed here.
    const r = await this.ask(ApiKey.Metadata, 1, false, body.toBuffer());
    const brokers = r.array((b) => {
      const id = b.int32();
      b.string();
      b.int32();
      b.string();
      return id;
    });
    r.int32();
    const partitions: PartitionState[] = [];
    r.array((t) => {
      t.int16();
      const topic = t.string() ?? '';
      t.bool();
      t.array((p) => {
        p.int16();
        const partition = p.int32();
        const leader = p.int32();
        const replicas = p.array((x) => x.int32());
        const isr = p.array((x) => x.int32());
        partitions.push({ topic, partition, leader, replicas, isr });
      });
    });
    return { brokers, partitions };
  }

  /** The node leading a partition; throws when it has none. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const { partitions } = await this.metadata([topic]);
    const p = partitions.find((x) => x.partition === partition);
    if (!p || p.leader < 0) throw new ClusterFaultError(`${topic}[${partition}] has no leader now`);
    return p.leader;
  }

  /** The group coordinator of `groupId`. */
  groupCoordinator(groupId: string): Promise<number> {
    return this.coordinator(groupId, 'group');
  }

  /** The transaction coordinator of `transactionalId`. */
  transactionCoordinator(transactionalId: string): Promise<number> {
    return this.coordinator(transactionalId, 'transaction');
  }

  /** The active controller: the leader of the KRaft metadata log. */
  async activeController(): Promise<number> {
    const body = new WireWriter()
      .uvarint(2)
      .compactString(METADATA_LOG)
      .uvarint(2)
      .int32(0)
      .noTags()
      .noTags()
      .noTags()
      .toBuffer();
    // DescribeQuorum v0 (flexible from its first version); a broker forwards it to the controller.
    const r = await this.ask(ApiKey.DescribeQuorum, 0, true, body);
    const error = r.int16();
    let leader = -1;
    r.compactArray((t) => {
      t.compactString();
      t.compactArray((p) => {
        p.int32();
        const partitionError = p.int16();
        const id = p.int32();
        if (partitionError === 0 && error === 0) leader = id;
        return null;
      });
      return null;
    });
    if (leader < 0) throw new ClusterFaultError(`no active controller (error ${error})`);
    return leader;
  }

  private async coordinator(key: string, type: keyof typeof COORDINATOR_TYPES): Promise<number> {
    const body = new WireWriter().string(key).int8(COORDINATOR_TYPES[type]).toBuffer();
    // FindCoordinator v1: one key, error and node id at fixed places.
    const r = await this.ask(ApiKey.FindCoordinator, 1, false, body);
    r.int32();
    const error = r.int16();
    r.string();
    const node = r.int32();
    if (error !== 0 || node < 0)
      throw new ClusterFaultError(`no ${type} coordinator for ${key} now (error ${error})`);
    return node;
  }

  /** Sends one request to the first node that answers; returns the response body. */
  private async ask(
    apiKey: number,
    apiVersion: number,
    flexible: boolean,
    body: Buffer,
  ): Promise<WireReader> {
    const failures: string[] = [];
    for (const address of this.o.addresses) {
      try {
        const frame = await this.roundTrip(address, apiKey, apiVersion, flexible, body);
        return responseBody(frame, flexible);
      } catch (err) {
        failures.push(`${address}: ${(err as Error).message}`);
      }
    }
    throw new ClusterFaultError(`no node answered api ${apiKey}: ${failures.join('; ')}`);
  }

  private roundTrip(
    address: string,
    apiKey: number,
    apiVersion: number,
    flexible: boolean,
    body: Buffer,
  ): Promise<Buffer> {
    const [host, port] = address.split(':');
    this.correlationId += 1;
    const correlationId = this.correlationId;
    const frame = requestFrame(
      { apiKey, apiVersion, correlationId, clientId: this.o.clientId, flexible },
      body,
    );
    return new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: host ?? '', port: Number(port) });
      const splitter = new FrameSplitter(this.o.maxFrameBytes);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer within ${this.o.requestTimeoutMs} ms`));
      }, this.o.requestTimeoutMs);
      const done = (err: Error | null, value?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value as Buffer);
      };
      socket.on('connect', () => socket.write(frame));
      socket.on('error', (err) => done(err));
      socket.on('close', () => done(new Error('connection closed before the answer')));
      socket.on('data', (chunk: Buffer) => {
        try {
          const answer = splitter
            .push(chunk)
            .find((f) => readResponseCorrelationId(f) === correlationId);
          if (answer) done(null, answer);
        } catch (err) {
          done(err as Error);
        }
      });
    });
  }
}
