import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  GrantStatusV1Avro,
  GrantStatusV1Schema,
} from '@grantstream/contracts';
import type { AvroSerde, ReadMessage, TopicScanner } from '@grantstream/kafka';
import type { GrantLogger } from '@grantstream/logging';
import { topicLag, type ProjectionLag, type TopicLag } from './lag';
import {
  auditRowOf,
  deadLetterRowOf,
  type AuditRow,
  type DeadLetterRow,
  type StatusRow,
} from './projection';
import type { ReadModelSection } from './read-model.config';
import type { ReadModelStore } from './read-model-store';

/** What one pass did: records read from the topics and how many of them were new to the store. */
export interface PassStats {
  read: number;
  added: number;
}

/** What the projector needs: the store it writes, the broker reader and decoder, its settings. */
export interface ProjectorOptions {
  store: ReadModelStore;
  /** Reads without a consumer group: the projector's positions live in its store, nowhere else. */
  scanner: TopicScanner;
  serde: AvroSerde;
  settings: ReadModelSection;
  logger: GrantLogger;
  now?: () => number;
}

type TopicKind = 'audit' | 'status' | 'deadLetters';

interface Pending {
  audit: AuditRow[];
  statuses: StatusRow[];
  deadLetters: DeadLetterRow[];
  positions: Map<number, string>;
}

const emptyPending = (): Pending => ({
  audit: [],
  statuses: [],
  deadLetters: [],
  positions: new Map(),
});

/**
 * Keeps the read model up with the audit, status and dead-letter topics.
 * Each pass reads every partition read_committed from the position the
 * store holds to the partition's end, decodes the records and writes them
 * with the positions they reach in one store transaction per batch, so a
 * restart goes on from the last committed batch instead of re-reading the
 * topics (a batch written twice after a crash is skipped record by record).
 * It joins no consumer group and commits nothing on the broker: it changes
 * nothing anyone else sees. After each pass it measures how far behind the
 * topics it is.
 */
export class Projector {
  private readonly now: () => number;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private state: ProjectionLag = {
    topics: [],
    total: 0,
    measuredAt: null,
    caughtUpAt: null,
    lastError: null,
  };

  private passStats: PassStats = { read: 0, added: 0 };

  constructor(private readonly options: ProjectorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Lag per topic as of the last pass. */
  lag(): ProjectionLag {
    return this.state;
  }

  /** What the last complete pass read and added. */
  lastPass(): PassStats {
    return this.passStats;
  }

  private kinds(): [TopicKind, string][] {
    const { topics } = this.options.settings;
    return [
      ['audit', topics.audit],
      ['status', topics.status],
      ['deadLetters', topics.deadLetters],
    ];
  }

  /** One pass over the three topics; returns how many records were new to the store. */
  async catchUp(): Promise<number> {
    const stats: PassStats = { read: 0, added: 0 };
    try {
      for (const [kind, topic] of this.kinds()) await this.projectTopic(kind, topic, stats);
      await this.measure();
    } catch (err) {
      this.state = { ...this.state, lastError: (err as Error).message };
      throw err;
    }
    this.passStats = stats;
    return stats.added;
  }

  /** Reads the topics' ends and compares them with the stored positions, reading no record. */
  async measure(): Promise<ProjectionLag> {
    const lags: TopicLag[] = [];
    for (const [, topic] of this.kinds()) {
      const ends = await this.options.scanner.endOffsets(topic);
      lags.push(topicLag(topic, ends, this.options.store.positions(topic)));
    }
    const total = lags.reduce((n, t) => n + t.lag, 0);
    const at = this.now();
    this.state = {
      topics: lags,
      total,
      measuredAt: at,
      caughtUpAt: total === 0 ? at : this.state.caughtUpAt,
      lastError: null,
    };
    return this.state;
  }

  private async projectTopic(kind: TopicKind, topic: string, stats: PassStats): Promise<void> {
    const { store, scanner, settings, logger } = this.options;
    let pending = emptyPending();
    let rows = 0;
    const flush = () => {
      if (rows === 0 && pending.positions.size === 0) return;
      stats.added += store.apply({
        audit: pending.audit,
        statuses: pending.statuses,
        deadLetters: pending.deadLetters,
        positions: [...pending.positions].map(([partition, nextOffset]) => ({
          topic,
          partition,
          nextOffset,
        })),
      });
      pending = emptyPending();
      rows = 0;
    };
    const read = scanner.scan(topic, {
      maxBytesPerFetch: settings.maxBytesPerFetch,
      maxWaitMs: settings.maxWaitMs,
      maxEmptyFetches: settings.maxEmptyFetches,
      from: store.positions(topic),
      // Told after the fetch's records were handed over, so a position never
      // runs ahead of the rows written with it.
      onPosition: (partition, next) => pending.positions.set(partition, next),
    });
    for await (const m of read) {
      stats.read += 1;
      if (kind === 'audit') pending.audit.push(await this.auditRow(m));
      else if (kind === 'deadLetters') pending.deadLetters.push(deadLetterRowOf(m));
      else {
        const row = await this.statusRow(m);
        if (row === null) {
          logger.warn(
            { topic, partition: m.partition, offset: m.offset },
            'status record not decodable: not projected',
          );
          continue;
        }
        pending.statuses.push(row);
      }
      rows += 1;
      if (rows >= settings.maxBatchRecords) flush();
    }
    flush();
  }

  private async auditRow(m: ReadMessage): Promise<AuditRow> {
    const key = m.key?.toString() ?? `UNKEYED:${m.partition}-${m.offset}`;
    const at = { partition: m.partition, offset: m.offset };
    if (m.value === null) return auditRowOf(at, key, null);
    try {
      const decoded = await this.options.serde.decodeAs(m.value, AuditEventV1Avro);
      return auditRowOf(at, key, AuditEventV1Schema.parse(decoded.value));
    } catch (err) {
      // Kept, not skipped: an audit record that does not decode is itself evidence.
      return auditRowOf(at, key, null, (err as Error).message);
    }
  }

  private async statusRow(m: ReadMessage): Promise<StatusRow | null> {
    if (m.value === null) return null;
    try {
      const decoded = await this.options.serde.decodeAs(m.value, GrantStatusV1Avro);
      const status = GrantStatusV1Schema.parse(decoded.value);
      return { partition: m.partition, offset: m.offset, grantId: status.grant_id, status };
    } catch {
      return null;
    }
  }

  /** Runs passes until {@link stop}, pausing `pollIntervalMs` after each; a failed pass is logged and retried. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.catchUp();
        } catch (err) {
          this.options.logger.error(
            { err },
            'read model pass failed; retrying after the poll interval',
          );
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.settings.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    })();
  }

  /** Ends the loop after the pass under way; the store stays open (its owner closes it). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}
