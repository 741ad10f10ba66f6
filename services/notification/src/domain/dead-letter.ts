import { auditTrailIdFor } from '@grantstream/audit';
import { DLQ_HEADERS, funderIdOrNull } from '@grantstream/contracts';
import { ERROR_CATEGORIES, impactOf, type ErrorCategory } from '@grantstream/errors';
import {
  ignore,
  notificationIdOf,
  type NotificationCause,
  type NotificationOutcome,
} from './notification';

/** A record of grants.dlq.v1 as the notification stage reads it: headers, key and where it sits. */
export interface DeadLetterInput {
  /** The original message key (the grant id for every stage of ours). */
  key: string | null;
  /** Header values as text. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Where the dead letter itself was read. */
  position: { topic: string; partition: number; offset: string };
  /** The dead letter's broker timestamp, epoch milliseconds: the fallback for a missing failed_at. */
  timestamp: number;
}

/** Detail keys and the dead-letter header each one copies, in the order the officer reads them. */
const DETAIL_HEADERS: readonly [string, string][] = [
  ['stage', DLQ_HEADERS.STAGE],
  ['error_category', DLQ_HEADERS.ERROR_CATEGORY],
  ['error_code', DLQ_HEADERS.ERROR_CODE],
  ['reason', DLQ_HEADERS.REASON],
  ['attempts', DLQ_HEADERS.ATTEMPTS],
  ['source_topic', DLQ_HEADERS.SOURCE_TOPIC],
  ['source_partition', DLQ_HEADERS.SOURCE_PARTITION],
  ['source_offset', DLQ_HEADERS.SOURCE_OFFSET],
  ['failed_at', DLQ_HEADERS.FAILED_AT],
  ['service', DLQ_HEADERS.SERVICE],
  ['redrive_count', DLQ_HEADERS.REDRIVE_COUNT],
];

const nonEmpty = (v: string | null | undefined): v is string =>
  v !== undefined && v !== null && v !== '';

const isErrorCategory = (v: string): v is ErrorCategory =>
  (ERROR_CATEGORIES as readonly string[]).includes(v);

/**
 * A dead letter (grants.dlq.v1): the officer learns which stage gave up on
 * which grant, why and after how many attempts. A status the portal never
 * resolved is its own kind. Dead letters of `ownStage` (the notification
 * stage itself) are not notified: their notification could fail the same way
 * and dead-letter again, forever; they are logged at error level instead.
 *
 * The grant is named as the dead letter's audit event names it (grant id
 * header, else key, else the source position), so the notification's audit
 * event lands in the same trail.
 */
export function fromDeadLetter(
  input: DeadLetterInput,
  cause: NotificationCause,
  ownStage: string,
): NotificationOutcome {
  const header = (name: string): string | null => {
    const v = input.headers[name];
    return nonEmpty(v) ? v : null;
  };
  const stage = header(DLQ_HEADERS.STAGE);
  const sourceTopic = header(DLQ_HEADERS.SOURCE_TOPIC);
  const partitionText = header(DLQ_HEADERS.SOURCE_PARTITION);
  const sourcePartition = partitionText === null ? Number.NaN : Number(partitionText);
  const sourceOffset = header(DLQ_HEADERS.SOURCE_OFFSET);
  const source =
    sourceTopic !== null && Number.isInteger(sourcePartition) && sourceOffset !== null
      ? { topic: sourceTopic, partition: sourcePartition, offset: Number(sourceOffset) }
      : {
          topic: input.position.topic,
          partition: input.position.partition,
          offset: Number(input.position.offset),
        };
  const grantId =
    header(DLQ_HEADERS.GRANT_ID) ??
    (nonEmpty(input.key) ? input.key : null) ??
    `UNKEYED-${source.topic}-${source.partition}-${source.offset}`;

  if (stage === ownStage) {
    return ignore(
      `dead letter of grant ${grantId} from the ${ownStage} stage itself (${header(DLQ_HEADERS.ERROR_CODE) ?? 'no code'}: ${header(DLQ_HEADERS.REASON) ?? 'no reason'}); not notified, so a failing notification cannot loop`,
      'error',
    );
  }

  const category = header(DLQ_HEADERS.ERROR_CATEGORY);
  const code = header(DLQ_HEADERS.ERROR_CODE);
  const reason = header(DLQ_HEADERS.REASON);
  const attempts = header(DLQ_HEADERS.ATTEMPTS);
  const failedAt = Date.parse(header(DLQ_HEADERS.FAILED_AT) ?? '');
  const kind = category === 'STATUS_UNRESOLVED' ? 'STATUS_UNRESOLVED' : 'DEAD_LETTER';
  const details: Record<string, string> = {};
  for (const [key, name] of DETAIL_HEADERS) {
    const v = header(name);
    if (v !== null) details[key] = v;
  }
  details['dlq_position'] =
    `${input.position.topic}/${input.position.partition}/${input.position.offset}`;

  const why = `${category ?? 'UNCATEGORIZED'} ${code ?? 'NO_CODE'}${reason === null ? '' : `: ${reason}`}`;
  const summary =
    kind === 'STATUS_UNRESOLVED'
      ? `${grantId}: the funder portal never reported a final status (${why}); ask the funder`
      : `${grantId}: the ${stage ?? 'unknown'} stage gave up${attempts === null ? '' : ` after ${attempts} attempt${attempts === '1' ? '' : 's'}`} (${why}); fix and redrive it`;

  return {
    action: 'notify',
    notification: {
      notificationId: notificationIdOf(kind, grantId, cause),
      kind,
      grantId,
      funderId: funderIdOrNull(grantId) ?? 'UNKNOWN',
      auditTrailId: header(DLQ_HEADERS.AUDIT_TRAIL_ID) ?? auditTrailIdFor(source),
      errorCategory: category,
      severity: category !== null && isErrorCategory(category) ? impactOf(category) : 'MEDIUM',
      summary,
      details,
      deadline: null,
      requestedBy: stage ?? 'unknown',
      requestedAt: Number.isNaN(failedAt) ? input.timestamp : failedAt,
      ruleSetVersion: null,
    },
  };
}
