import { Type, type schema } from 'avsc';
import {
  AUDIT_GENESIS_HASH,
  AUDIT_HEAD_HEADER,
  buildAuditEvent,
  payloadHashOf,
} from '@grantstream/audit';
import {
  AuditEventV1Avro,
  GrantStatusV1Avro,
  TOPICS,
  funderIdOf,
  type AuditEventV1,
  type GrantStatusV1,
  type RoutedGrantV1,
} from '@grantstream/contracts';
import {
  TopicScanner,
  type PlatformClients,
  type ReadMessage,
  type TopicPositions,
} from '@grantstream/kafka';
import { testConfig } from '../environment';

/**
 * Produces routed grants as compliance routing would: each with an INGESTED
 * event on the audit topic as the genesis of its trail and that event's hash
 * as the message's audit head. Returns the genesis hash of each grant.
 */
export async function produceRouted(
  clients: PlatformClients,
  grants: readonly RoutedGrantV1[],
): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  const auditValues = [];
  for (const g of grants) {
    const { key, event } = buildAuditEvent(
      {
        grantId: g.grant_id,
        funderId: funderIdOf(g.grant_id),
        auditTrailId: g.audit_trail_id,
        stage: 'ingest',
        action: 'INGESTED',
        payloadHash: payloadHashOf(Buffer.from(g.grant_id)),
        service: { name: 'scenario', version: '0' },
        occurredAt: Date.now(),
        source: null,
        discriminator: g.grant_id,
      },
      AUDIT_GENESIS_HASH,
    );
    heads.set(g.grant_id, event.event_hash);
    auditValues.push({ key, value: await clients.serde.encode(TOPICS.AUDIT, event) });
  }
  await clients.io.produce(TOPICS.AUDIT, auditValues);
  const routed = await Promise.all(
    grants.map(async (g) => ({
      key: g.grant_id,
      value: await clients.serde.encode(TOPICS.ROUTED, g),
      headers: { [AUDIT_HEAD_HEADER]: heads.get(g.grant_id) ?? AUDIT_GENESIS_HASH },
    })),
  );
  for (let i = 0; i < routed.length; i += 200)
    await clients.io.produce(TOPICS.ROUTED, routed.slice(i, i + 200));
  return heads;
}

/** The grant a record is about: its key, or the grant part of an audit key (grant_id:event_id). */
function keyOf(m: ReadMessage): string {
  const key = m.key?.toString() ?? '';
  return key.includes(':') ? key.slice(0, key.lastIndexOf(':')) : key;
}

/**
 * Every committed record of `grantIds` on `topic` from its positions in
 * `from` up to the topic's end now, without a consumer group: what a scenario
 * reads once its services are quiet, to see everything they wrote and nothing
 * they might still write (unlike {@link collectRecords}, no waiting).
 */
export async function scanSince(
  clients: PlatformClients,
  from: TopicPositions,
  topic: string,
  grantIds: ReadonlySet<string>,
): Promise<ReadMessage[]> {
  const scanner = new TopicScanner(clients.kafka);
  const out: ReadMessage[] = [];
  try {
    for await (const m of scanner.scan(topic, { ...testConfig().audit, from: from.get(topic) })) {
      if (grantIds.has(keyOf(m))) out.push(m);
    }
  } finally {
    await scanner.close();
  }
  return out;
}

/** One decision of a grant's trail, after its INGESTED genesis (see {@link produceTrails}). */
export interface TrailStep {
  stage: string;
  action: AuditEventV1['action'];
  errorCategory?: string | null;
  severity?: 'HIGH' | 'MEDIUM' | null;
  details?: Record<string, string>;
}

/**
 * Writes each grant's audit trail as the stages before a scenario's service
 * would have left it: an INGESTED event from genesis, then `steps` in order,
 * each chained to the one before. Returns each grant's head (the last event's
 * hash), for the grantstream.audit.head header of the record that continues it.
 */
export async function produceTrails(
  clients: PlatformClients,
  trails: readonly {
    grantId: string;
    auditTrailId: string;
    steps: readonly TrailStep[];
  }[],
): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  const values = [];
  const at = Date.now();
  for (const t of trails) {
    let previous = AUDIT_GENESIS_HASH;
    const steps: TrailStep[] = [{ stage: 'ingest', action: 'INGESTED' }, ...t.steps];
    for (const [i, step] of steps.entries()) {
      const { key, event } = buildAuditEvent(
        {
          grantId: t.grantId,
          funderId: funderIdOf(t.grantId),
          auditTrailId: t.auditTrailId,
          stage: step.stage,
          action: step.action,
          errorCategory: step.errorCategory ?? null,
          severity: step.severity ?? null,
          payloadHash: payloadHashOf(Buffer.from(t.grantId)),
          service: { name: 'scenario', version: '0' },
          occurredAt: at + i,
          source: null,
          discriminator: `${t.grantId}#${i}`,
          ...(step.details ? { details: step.details } : {}),
        },
        previous,
      );
      previous = event.event_hash;
      values.push({ key, value: await clients.serde.encode(TOPICS.AUDIT, event) });
    }
    heads.set(t.grantId, previous);
  }
  for (let i = 0; i < values.length; i += 200)
    await clients.io.produce(TOPICS.AUDIT, values.slice(i, i + 200));
  return heads;
}

const decoders = new Map<string, Type>();
/** Decodes a Confluent-framed Avro value with the reader schema (our own records, same schema). */
export function decodeFramed<T>(value: Buffer | null, avro: schema.RecordType): T {
  if (!value) throw new Error('empty value');
  let type = decoders.get(avro.name);
  if (!type) {
    type = Type.forSchema(avro, { logicalTypes: {} });
    decoders.set(avro.name, type);
  }
  return type.fromBuffer(value.subarray(5)) as T;
}

/** A decoded record of a followed topic, with where and when it was written. */
export interface Followed<T> {
  topic: string;
  value: T;
  headers: Record<string, Buffer | undefined>;
  timestamp: number;
}

/**
 * Follows `topics` from their positions in `from` (read_committed) and collects the records of
 * `grantIds`, decoded with `avro`, until `done` says the collection is
 * complete or `timeoutMs` passes. Returns what was collected either way.
 */
export async function collectRecords<T>(
  clients: PlatformClients,
  from: TopicPositions,
  topics: readonly string[],
  grantIds: ReadonlySet<string>,
  avro: schema.RecordType,
  done: (records: readonly Followed<T>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<T>[]> {
  const records: Followed<T>[] = [];
  const positions: TopicPositions = new Map(
    topics.map((t) => [t, from.get(t) ?? new Map<number, string>()]),
  );
  await clients.io.follow(
    positions,
    (m) => {
      if (!grantIds.has(keyOf(m))) return false;
      records.push({
        topic: m.topic,
        value: decodeFramed<T>(m.value, avro),
        headers: m.headers,
        timestamp: Number(m.timestamp),
      });
      return done(records);
    },
    timeoutMs,
  );
  return records;
}

/** Statuses by grant, in the order they were written. */
export function statusesByGrant(
  records: readonly Followed<GrantStatusV1>[],
): Map<string, GrantStatusV1[]> {
  const by = new Map<string, GrantStatusV1[]>();
  for (const r of records) {
    const list = by.get(r.value.grant_id) ?? [];
    list.push(r.value);
    by.set(r.value.grant_id, list);
  }
  return by;
}

/** Reads the audit events of `grantIds` written since `from` until `done` holds. */
export function collectAudit(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  done: (events: readonly Followed<AuditEventV1>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<AuditEventV1>[]> {
  return collectRecords(clients, from, [TOPICS.AUDIT], grantIds, AuditEventV1Avro, done, timeoutMs);
}

/** Reads grants.status.v1 for `grantIds` since `from` until `done` holds. */
export function collectStatuses(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  done: (records: readonly Followed<GrantStatusV1>[]) => boolean,
  timeoutMs: number,
): Promise<Followed<GrantStatusV1>[]> {
  return collectRecords(
    clients,
    from,
    [TOPICS.STATUS],
    grantIds,
    GrantStatusV1Avro,
    done,
    timeoutMs,
  );
}
