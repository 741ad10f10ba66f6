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
import { ChainVerifier, type VerificationReport } from '@grantstream/audit';
import {
  TopicScanner,
  type PlatformClients,
  type ScanOptions,
  type TopicPositions,
} from '@grantstream/kafka';

/** Where a grant the pipeline forwarded ended up. */
export interface FinalState {
  /** accepted: the agency assigned its tracking number; rejected: REJECTED_WITH_ERRORS; dead_letter: given up. */
  state: 'accepted' | 'rejected' | 'dead_letter';
  /** The portal's tracking number, when it gave one. */
  trackingNumber: string | null;
  /** Error category of a dead letter. */
  category: string | null;
  /** Stage that dead-lettered it. */
  stage: string | null;
  /** Broker timestamp of the record that made the state final, epoch milliseconds. */
  atMs: number;
}

const statusType = Type.forSchema(GrantStatusV1Avro);

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
 * Follows grants.status.v1 and grants.dlq.v1 from `from` until every grant
 * of `grantIds` has a terminal status (AGENCY_TRACKING_NUMBER_ASSIGNED or
 * REJECTED_WITH_ERRORS) or a dead letter, or `timeoutMs` passes.
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
      const grantId = m.key?.toString() ?? '';
      if (!grantIds.has(grantId) || finals.has(grantId)) return false;
      const atMs = Number(m.timestamp);
      if (m.topic === TOPICS.DLQ) {
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
