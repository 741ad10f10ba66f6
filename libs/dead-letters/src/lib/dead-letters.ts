import {
  AUDIT_HEAD_HEADER,
  auditTrailIdFor,
  payloadHashOf,
  previousEventHashOf,
  stageAuditRecord,
  type StageAuditRecord,
} from '@grantstream/audit';
import { DLQ_HEADERS, funderIdOrNull } from '@grantstream/contracts';
import type { OutgoingMessage, ReadMessage } from '@grantstream/kafka';

/** Prefix of every header a dead letter adds to the original message. */
const DLQ_HEADER_PREFIX = 'grantstream.dlq.';

/** The stage name grantctl's own audit events carry. */
export const GRANTCTL_STAGE = 'grantctl';

/** Where a message sits: partition and offset of one topic. */
export interface Position {
  partition: number;
  offset: string;
}

/** A dead letter of the dead-letter topic as operators read it: its headers, decoded. */
export interface DeadLetterEntry {
  /** `partition:offset` in the dead-letter topic: what `show` and `redrive` take. */
  position: string;
  partition: number;
  offset: string;
  key: string | null;
  stage: string | null;
  service: string | null;
  category: string | null;
  code: string | null;
  reason: string | null;
  attempts: number | null;
  /** ISO-8601, as the stage wrote it. */
  failedAt: string | null;
  /** The grant the dead letter's audit event names (header, else key, else the source position). */
  grantId: string;
  auditTrailId: string | null;
  /** The message the stage gave up on; null when the headers do not say. */
  source: { topic: string; partition: number; offset: string } | null;
  redriveCount: number;
  /** Hash of the DEAD_LETTER audit event: where a redrive continues the trail. */
  auditHead: string | null;
  /** Size of the original value, carried or by reference; null for a tombstone. */
  valueBytes: number | null;
  /**
   * Set when the dead letter was too large for the broker and carries a
   * reference to the original value's bytes in the dead-letter store instead
   * of them (`uri` null when the store failed and only the hash was kept).
   */
  valueRef: { uri: string | null; sha256: string | null } | null;
  /** Parts of the original the dead letter does not carry (value, key, headers). */
  omitted: string[];
}

/** Parses `partition:offset`; throws on anything else. */
export function parsePosition(text: string): Position {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) {
    throw new Error(`not a position: ${text} (expected partition:offset, e.g. 0:42)`);
  }
  return { partition: Number(match[1]), offset: String(BigInt(match[2])) };
}

export const positionKey = (p: Position): string => `${p.partition}:${p.offset}`;

function text(headers: ReadMessage['headers'], name: string): string | null {
  const v = headers[name]?.toString();
  return v === undefined || v === '' ? null : v;
}

function intOrNull(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  return Number(value);
}

/** Reads a dead letter's headers into an entry. Tolerates any header missing or malformed. */
export function describeDeadLetter(m: ReadMessage): DeadLetterEntry {
  const h = (name: string) => text(m.headers, name);
  const sourceTopic = h(DLQ_HEADERS.SOURCE_TOPIC);
  const sourcePartition = intOrNull(h(DLQ_HEADERS.SOURCE_PARTITION));
  const sourceOffset = h(DLQ_HEADERS.SOURCE_OFFSET);
  const source =
    sourceTopic !== null &&
    sourcePartition !== null &&
    sourceOffset !== null &&
    /^\d+$/.test(sourceOffset)
      ? { topic: sourceTopic, partition: sourcePartition, offset: sourceOffset }
      : null;
  const key = m.key === null || m.key.length === 0 ? null : m.key.toString();
  const where = source ?? { topic: m.topic, partition: m.partition, offset: m.offset };
  return {
    position: positionKey(m),
    partition: m.partition,
    offset: m.offset,
    key,
    stage: h(DLQ_HEADERS.STAGE),
    service: h(DLQ_HEADERS.SERVICE),
    category: h(DLQ_HEADERS.ERROR_CATEGORY),
    code: h(DLQ_HEADERS.ERROR_CODE),
    reason: h(DLQ_HEADERS.REASON),
    attempts: intOrNull(h(DLQ_HEADERS.ATTEMPTS)),
    failedAt: h(DLQ_HEADERS.FAILED_AT),
    // As the stage's DEAD_LETTER event named it, so a REDRIVEN event joins the same trail.
    grantId:
      h(DLQ_HEADERS.GRANT_ID) ?? key ?? `UNKEYED-${where.topic}-${where.partition}-${where.offset}`,
    auditTrailId: h(DLQ_HEADERS.AUDIT_TRAIL_ID),
    source,
    redriveCount: intOrNull(h(DLQ_HEADERS.REDRIVE_COUNT)) ?? 0,
    auditHead: h(AUDIT_HEAD_HEADER),
    ...valueOf(m, h),
  };
}

/** Where the original value is: in the dead letter, or by reference (grantstream.dlq.value.*). */
function valueOf(
  m: ReadMessage,
  h: (name: string) => string | null,
): Pick<DeadLetterEntry, 'valueBytes' | 'valueRef' | 'omitted'> {
  const omitted = (h(DLQ_HEADERS.OMITTED) ?? '').split(',').filter((p) => p !== '');
  const uri = h(DLQ_HEADERS.VALUE_REF);
  const sha256 = h(DLQ_HEADERS.VALUE_SHA256);
  const byReference = omitted.includes('value') || uri !== null;
  return {
    valueBytes: byReference
      ? intOrNull(h(DLQ_HEADERS.VALUE_BYTES))
      : m.value === null
        ? null
        : m.value.length,
    valueRef: byReference ? { uri, sha256 } : null,
    omitted,
  };
}

/** What `list` and `redrive` select by besides positions; every given field must match. */
export interface DeadLetterCriteria {
  category?: string;
  code?: string;
  stage?: string;
  sourceTopic?: string;
  grant?: string;
  /** failed_at at or after, epoch ms. */
  from?: number;
  /** failed_at before, epoch ms. */
  to?: number;
}

const CRITERIA = [
  'category',
  'code',
  'stage',
  'sourceTopic',
  'grant',
  'from',
  'to',
] as const satisfies readonly (keyof DeadLetterCriteria)[];

/** The criteria given in `options` (a command's parsed options), and nothing else. */
export function criteriaOf(options: DeadLetterCriteria): DeadLetterCriteria {
  return Object.fromEntries(
    CRITERIA.flatMap((k) => (options[k] === undefined ? [] : [[k, options[k]]])),
  );
}

/** Criteria plus, optionally, the dead letters' own positions (`partition:offset`). */
export interface DeadLetterFilter extends DeadLetterCriteria {
  positions?: ReadonlySet<string>;
}

/** True when the filter selects nothing in particular (every dead letter matches). */
export function selectsEverything(f: DeadLetterFilter): boolean {
  return f.positions === undefined && CRITERIA.every((k) => f[k] === undefined);
}

export function matchesDeadLetter(e: DeadLetterEntry, f: DeadLetterFilter): boolean {
  if (f.positions && !f.positions.has(e.position)) return false;
  if (f.category !== undefined && e.category !== f.category) return false;
  if (f.code !== undefined && e.code !== f.code) return false;
  if (f.stage !== undefined && e.stage !== f.stage) return false;
  if (f.sourceTopic !== undefined && e.source?.topic !== f.sourceTopic) return false;
  if (f.grant !== undefined && e.grantId !== f.grant) return false;
  if (f.from !== undefined || f.to !== undefined) {
    const at = e.failedAt === null ? Number.NaN : Date.parse(e.failedAt);
    if (!Number.isFinite(at)) return false;
    if (f.from !== undefined && at < f.from) return false;
    if (f.to !== undefined && at >= f.to) return false;
  }
  return true;
}

/** What decides whether a dead letter may be redriven. */
export interface RedrivePolicy {
  deadLetterTopic: string;
  refuseCategories: readonly string[];
  /** Redrive refused categories too. */
  force: boolean;
  /** Positions some earlier redrive already sent back (from the REDRIVEN audit events). */
  alreadyRedriven: ReadonlySet<string>;
}

/** Why a dead letter is not redriven, or null when it may be. */
export function redriveRefusal(e: DeadLetterEntry, policy: RedrivePolicy): string | null {
  if (policy.alreadyRedriven.has(e.position)) {
    return 'already redriven (a failure after that is a new dead letter: redrive that one)';
  }
  if (e.source === null) return 'no source topic, partition and offset in its headers';
  if (e.source.topic === policy.deadLetterTopic) {
    return 'its source is the dead-letter topic itself (a notification that failed): notify by hand';
  }
  if (e.valueRef && (e.valueRef.uri === null || e.valueRef.sha256 === null)) {
    return 'its value was not kept (the dead-letter store failed): resend it from its source position by hand';
  }
  const lost = e.omitted.filter((p) => p === 'key' || p === 'headers');
  if (!policy.force && lost.length > 0) {
    return `its original ${lost.join(' and ')} were too large to keep: --force sends it without them`;
  }
  if (!policy.force && e.category !== null && policy.refuseCategories.includes(e.category)) {
    return `category ${e.category}: the message itself failed and would fail again (--force to send it anyway)`;
  }
  return null;
}

/** The REDRIVEN audit event of a redrive: chained to the dead letter's event, keyed by its position. */
export function redriveAuditRecord(
  e: DeadLetterEntry,
  m: ReadMessage,
  at: { occurredAt: number; operator: string; service: { name: string; version: string } },
  auditTopic: string,
): StageAuditRecord {
  const source = e.source ?? { topic: m.topic, partition: m.partition, offset: m.offset };
  return stageAuditRecord(
    {
      grantId: e.grantId,
      funderId: funderIdOrNull(e.grantId) ?? 'UNKNOWN',
      auditTrailId: e.auditTrailId ?? auditTrailIdFor({ ...source, offset: Number(source.offset) }),
      stage: GRANTCTL_STAGE,
      action: 'REDRIVEN',
      errorCategory: e.category,
      payloadHash: payloadHashOf(m.value),
      service: at.service,
      occurredAt: at.occurredAt,
      // The dead letter's own position: one REDRIVEN event per dead letter.
      source: { topic: m.topic, partition: m.partition, offset: Number(m.offset) },
      details: {
        to_topic: source.topic,
        from_partition: String(source.partition),
        from_offset: source.offset,
        redrive_count: String(e.redriveCount + 1),
        operator: at.operator,
        ...(e.code !== null ? { error_code: e.code } : {}),
      },
    },
    previousEventHashOf(m.headers),
    auditTopic,
  );
}

/**
 * The message a redrive sends back to its source topic: the original key,
 * value and headers byte for byte (the value read back from the dead-letter
 * store when the dead letter carries a reference), without the dead-letter headers, with the
 * redrive count raised and the audit head moved to the REDRIVEN event. A key
 * finds its partition as any producer's would; a keyless message goes back to
 * the partition it came from.
 */
export function redrivenMessage(
  e: DeadLetterEntry,
  m: ReadMessage,
  auditHead: Readonly<Record<string, string>>,
  /** The original value read back from the dead-letter store, for a dead letter that carries a reference. */
  value: Buffer | null = m.value,
): OutgoingMessage {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(m.headers)) {
    if (v !== undefined && !k.startsWith(DLQ_HEADER_PREFIX)) headers[k] = v;
  }
  Object.assign(headers, auditHead, { [DLQ_HEADERS.REDRIVE_COUNT]: String(e.redriveCount + 1) });
  return {
    key: m.key,
    value,
    headers,
    ...(m.key === null && e.source ? { partition: e.source.partition } : {}),
  };
}

/** Counts of dead letters by `stage / category / code`, largest first. */
export function summarize(entries: Iterable<DeadLetterEntry>): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const k = `${e.stage ?? '?'} / ${e.category ?? '?'} / ${e.code ?? '?'}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
