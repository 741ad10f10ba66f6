import { Type } from 'avsc';
import {
  AuditEventV1Avro,
  AuditEventV1Schema,
  DLQ_HEADERS,
  GrantStatusV1Avro,
  TOPICS,
  type AuditEventV1,
  type GrantStatusV1,
} from '@grantstream/contracts';
import {
  ChainVerifier,
  DUPLICATE_OF_TRAIL_DETAIL,
  isDuplicateEvent,
  type VerificationReport,
} from '@grantstream/audit';
import {
  TopicScanner,
  type PlatformClients,
  type ScanOptions,
  type TopicPositions,
} from '@grantstream/kafka';

/** Where a grant the pipeline forwarded ended up. */
export interface FinalState {
  /**
   * accepted: the agency assigned its tracking number; rejected:
   * REJECTED_WITH_ERRORS; dead_letter: given up; duplicate: its content was
   * already accepted on another trail, so submission filed nothing.
   */
  state: 'accepted' | 'rejected' | 'dead_letter' | 'duplicate';
  /** The portal's tracking number, when it gave one. */
  trackingNumber: string | null;
  /** Error category of a dead letter. */
  category: string | null;
  /** Stage that dead-lettered it. */
  stage: string | null;
  /** The trail a duplicate's content was accepted on. */
  duplicateOf?: string;
  /** Broker timestamp of the record that made the state final, epoch milliseconds. */
  atMs: number;
}

const statusType = Type.forSchema(GrantStatusV1Avro);
const auditType = Type.forSchema(AuditEventV1Avro, { logicalTypes: {} });

/** Decodes our own Confluent-framed AuditEvent (same schema, no registry round trip). */
function decodeAudit(value: Buffer | null): AuditEventV1 | null {
  if (!value || value.length < 5) return null;
  try {
    return auditType.fromBuffer(value.subarray(5)) as AuditEventV1;
  } catch {
    return null;
  }
}

/** Decodes our own Confluent-framed GrantStatus (same schema, no registry round trip). */
function decodeStatus(value: Buffer | null): GrantStatusV1 | null {
  if (!value || value.length < 5) return null;
  try {
    return statusType.fromBuffer(value.subarray(5)) as GrantStatusV1;
  } catch {
    return null;
  }
}

/**
 * Follows grants.status.v1 and grants.dlq.v1 (and grants.audit.v1 when `from`
 * names it) from `from` until every grant of `grantIds` has a terminal status
 * (AGENCY_TRACKING_NUMBER_ASSIGNED or REJECTED_WITH_ERRORS), a dead letter or
 * a duplicate decision, or `timeoutMs` passes.
 */
export async function followToFinal(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  options: { timeoutMs: number; onProgress?: (done: number) => void },
): Promise<{ finals: Map<string, FinalState>; missing: string[] }> {
  const finals = new Map<string, FinalState>();
  await clients.io.follow(
    from,
    (m) => {
      const key = m.key?.toString() ?? '';
      // Audit keys are grant_id:event_id.
      const grantId = m.topic === TOPICS.AUDIT ? key.slice(0, key.lastIndexOf(':')) : key;
      if (!grantIds.has(grantId) || finals.has(grantId)) return false;
      const atMs = Number(m.timestamp);
      if (m.topic === TOPICS.AUDIT) {
        const event = decodeAudit(m.value);
        if (!event || !isDuplicateEvent(event)) return false;
        finals.set(grantId, {
          state: 'duplicate',
          trackingNumber: null,
          category: null,
          stage: event.stage,
          atMs,
          duplicateOf: event.details[DUPLICATE_OF_TRAIL_DETAIL] ?? '',
        });
      } else if (m.topic === TOPICS.DLQ) {
        finals.set(grantId, {
          state: 'dead_letter',
          trackingNumber: null,
          category: m.headers[DLQ_HEADERS.ERROR_CATEGORY]?.toString() ?? null,
          stage: m.headers[DLQ_HEADERS.STAGE]?.toString() ?? null,
          atMs,
        });
      } else {
        const status = decodeStatus(m.value);
        if (!status?.terminal) return false;
        finals.set(grantId, {
          state: status.status === 'REJECTED_WITH_ERRORS' ? 'rejected' : 'accepted',
          trackingNumber: status.tracking_number,
          category: null,
          stage: null,
          atMs,
        });
      }
      options.onProgress?.(finals.size);
      return finals.size >= grantIds.size;
    },
    options.timeoutMs,
  );
  return { finals, missing: [...grantIds].filter((id) => !finals.has(id)) };
}

/**
 * Reads the audit topic from `from` to its current end (no waiting: call it
 * once the grants' final records are seen, which commit with their events)
 * and verifies the hash chain of every grant of `grantIds`.
 */
export async function scanAuditTrails(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  scan: ScanOptions,
): Promise<{ report: VerificationReport; events: Map<string, AuditEventV1[]> }> {
  const verifier = new ChainVerifier();
  const events = new Map<string, AuditEventV1[]>();
  const scanner = new TopicScanner(clients.kafka);
  try {
    for await (const m of scanner.scan(TOPICS.AUDIT, { ...scan, from: from.get(TOPICS.AUDIT) })) {
      const key = m.key?.toString() ?? '';
      const grantId = key.slice(0, key.lastIndexOf(':'));
      if (!grantIds.has(grantId) || !m.value) continue;
      const event = AuditEventV1Schema.parse(
        (await clients.serde.decodeAs<AuditEventV1>(m.value, AuditEventV1Avro)).value,
      );
      verifier.add({ key, event, partition: m.partition, offset: m.offset });
      const list = events.get(grantId) ?? [];
      list.push(event);
      events.set(grantId, list);
    }
  } finally {
    await scanner.close();
  }
  return { report: verifier.finish(), events };
}
