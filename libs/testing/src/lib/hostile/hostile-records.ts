import { Type, type types } from 'avsc';
import {
  AVRO_LOGICAL_TYPES,
  GrantSubmissionV2Avro,
  TOPICS,
  type AttachmentRefV1,
  type GrantSubmissionV2,
} from '@grantstream/contracts';
import { avroBranch, avroLong, avroString, framed } from './avro-bytes';
import type { HostileFiles } from './fixtures';

/*
 * What the hostile catalogue (hostile-classes.ts) is built from: the shapes of
 * a class and its context, and the builders of valid and lying records.
 */

/** Where a class of input must end, and for a dead letter with which category and code. */
export type HostileOutcome =
  | { topic: typeof TOPICS.VALIDATED }
  | { topic: typeof TOPICS.DLQ; category: string; code: string };

/** One message as produced: bytes exactly as given. */
export interface HostileRecord {
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | Buffer>;
  /** Sent gzip-compressed, as upstream producers do with large records. */
  compression?: 'gzip';
  /** The grant id the record carries (what a validated output is keyed by), if it has one. */
  grantId: string | null;
}

/** Bounds of the stage under test that hostile sizes are derived from (validated config). */
export interface HostileLimits {
  maxMetadataKeys: number;
  maxArrayItems: number;
  maxAttachments: number;
  /** ingest.storage.inspect.zip.maxEntries */
  zipMaxEntries: number;
  /** registry.decodeLimits.maxItems */
  decodeMaxItems: number;
  /** registry.decodeLimits.maxDepth */
  decodeMaxDepth: number;
  /** runner.memory.maxInputRecordBytes of the stage */
  maxInputRecordBytes: number;
  /** runner.maxRecordBytes */
  maxRecordBytes: number;
  /** runner.memory.budgetMb of the stage (its container limit), in bytes */
  memoryBudgetBytes: number;
}

/** Schema ids a hostile run registered or picked. */
export interface HostileSchemaIds {
  /** GrantSubmission as our code writes it, under the scenario topic's subject. */
  own: number;
  /** {@link EXTENDED_SUBMISSION_SCHEMA}: a compatible version under the same subject. */
  extended: number;
  /** {@link OTHER_SUBJECT_SCHEMA} under another subject. */
  otherSubject: number;
  /** An id the registry does not know. */
  unknown: number;
}

/** What every class is built from. */
export interface HostileContext {
  /** Upper-case letters and digits, at most 12: makes grant ids unique to the run. */
  tag: string;
  ids: HostileSchemaIds;
  files: HostileFiles;
  limits: HostileLimits;
  /** Epoch ms the run treats as now. */
  now: number;
}

/** A family of hostile input: the layer of the ingest contract it attacks. */
export type HostileFamily = 'wire' | 'avro' | 'contract' | 'key' | 'header' | 'attachment';

/** One class of bad input and where it must end. */
export interface HostileClass {
  /** Stable name, `<family>.<what>`; the doc table lists every one. */
  name: string;
  family: HostileFamily;
  /** What the input is, in a sentence. */
  description: string;
  expected: HostileOutcome;
  build(ctx: HostileContext, grantId: string): HostileRecord;
}

/**
 * A version of GrantSubmission someone else could register under the same
 * subject (optional fields with defaults, accepted by FULL_TRANSITIVE) that
 * gives an attacker an enum and a recursive type to lie with.
 */
export const EXTENDED_SUBMISSION_SCHEMA: object = {
  ...(GrantSubmissionV2Avro as object),
  fields: [
    ...(GrantSubmissionV2Avro as { fields: object[] }).fields,
    {
      name: 'channel',
      type: ['null', { type: 'enum', name: 'Channel', symbols: ['PORTAL', 'BATCH'] }],
      default: null,
    },
    {
      name: 'lineage',
      type: [
        'null',
        {
          type: 'record',
          name: 'Lineage',
          fields: [{ name: 'parents', type: { type: 'array', items: 'Lineage' } }],
        },
      ],
      default: null,
    },
  ],
};

/** A record that is not a grant application, registered under a subject of its own. */
export const OTHER_SUBJECT_SCHEMA: object = {
  type: 'record',
  name: 'HostileOther',
  namespace: 'org.grantstream.test',
  fields: [{ name: 'note', type: 'string' }],
};

export const submissionType = Type.forSchema(GrantSubmissionV2Avro, {
  logicalTypes: { ...AVRO_LOGICAL_TYPES },
  registry: {},
}) as types.RecordType;

/** Union branches of a metadata value: null, boolean, long, double, string, array<string>. */
export const META_STRING = 4;

type FieldName = keyof GrantSubmissionV2;

/**
 * The Avro body of a submission, field by field, with any field's bytes
 * replaced by `lies`: how a hostile body says what avsc would never write.
 */
export function submissionBody(
  sub: GrantSubmissionV2,
  lies: Partial<Record<FieldName, Buffer>> = {},
): Buffer {
  return Buffer.concat(
    submissionType.fields.map(
      (f) => lies[f.name as FieldName] ?? f.type.toBuffer(sub[f.name as FieldName]),
    ),
  );
}

/** The metadata map's bytes, with `first` (raw entry bytes, count given) as a block before it. */
export function metadataWith(
  sub: GrantSubmissionV2,
  count: number | bigint,
  first: Buffer,
): Buffer {
  const rest = (submissionType.fields.find((f) => f.name === 'metadata') as types.Field).type;
  return Buffer.concat([avroLong(count), first, rest.toBuffer(sub.metadata)]);
}

/** One attachment reference's bytes (uri, media_type, size, sha256, filename), optionally lying. */
export function attachmentBytes(
  ref: AttachmentRefV1,
  mediaTypeBranch = ref.media_type ? 1 : 0,
): Buffer {
  return Buffer.concat([
    avroString(ref.uri),
    mediaTypeBranch === 1 && ref.media_type
      ? avroBranch(1, avroString(ref.media_type))
      : avroLong(mediaTypeBranch),
    ref.size_bytes === null ? avroLong(0) : avroBranch(1, avroLong(ref.size_bytes)),
    ref.sha256 === null ? avroLong(0) : avroBranch(1, avroString(ref.sha256)),
    avroString(ref.filename),
  ]);
}

export const DAY_MS = 86_400_000;

/** A submission ingest validates: NSF, a sound PDF, the metadata an application carries. */
export function validSubmission(
  grantId: string,
  attachments: AttachmentRefV1[],
  now: number,
): GrantSubmissionV2 {
  return {
    grant_id: grantId,
    funder_portal: grantId.startsWith('SCDA-') ? 'scda-egrants' : 'grants-gov',
    submission_deadline: now + 60 * DAY_MS,
    metadata: {
      project_title: 'Watershed monitoring with low-cost sensors',
      project_summary: 'A three-year study of sensor networks in rural watersheds.',
      requested_amount: '$350,000.00',
      duration_months: 36,
      organization_name: 'Riverbend Research Institute',
      pi_name: 'Dana Okafor',
      keywords: ['hydrology', 'sensors'],
    },
    attachments,
    audit_timestamp: now,
    program_code: 'NSF 24-583',
    applicant_ein: '12-3456789',
  };
}

/** The framed bytes of a submission under our own schema id. */
export function encodeSubmission(ctx: HostileContext, sub: GrantSubmissionV2): Buffer {
  return framed(ctx.ids.own, submissionBody(sub));
}

export const valid = (ctx: HostileContext, grantId: string, attachments = [ctx.files.pdf]) =>
  validSubmission(grantId, attachments, ctx.now);

/** A record of a valid submission with its grant id as key, the rest as given. */
export function record(
  ctx: HostileContext,
  grantId: string,
  sub: GrantSubmissionV2 = valid(ctx, grantId),
  more: Partial<HostileRecord> = {},
): HostileRecord {
  return { key: grantId, value: encodeSubmission(ctx, sub), grantId, ...more };
}

/** A record whose body lies in the given fields. */
export function lying(
  ctx: HostileContext,
  grantId: string,
  lies: Partial<Record<FieldName, Buffer>>,
  schemaId = ctx.ids.own,
  tail: Buffer = Buffer.alloc(0),
): HostileRecord {
  const body = Buffer.concat([submissionBody(valid(ctx, grantId), lies), tail]);
  return { key: grantId, value: framed(schemaId, body), grantId };
}

export const VALIDATED = { topic: TOPICS.VALIDATED } as const;
export const dead = (category: string, code: string): HostileOutcome => ({
  topic: TOPICS.DLQ,
  category,
  code,
});
export const schema = (code: string) => dead('SCHEMA_VIOLATION', code);
export const attachment = (code: string) => dead('ATTACHMENT_INVALID', code);

/** About 2^31: an item count no record can hold, as the crash-looping record claimed. */
export const CLAIMED_ITEMS = 2n ** 31n;
/** A length no buffer of any record can hold. */
export const CLAIMED_BYTES = 2n ** 40n;

/** Text that looks like prose and compresses well, `chars` long. */
export function prose(chars: number): string {
  const words = ['budget', 'outcome', 'watershed', 'sensor', 'school', 'rural', 'year', 'data'];
  let out = '';
  for (let i = 0; out.length < chars; i += 1)
    out += `${words[(i * 7919) % words.length] as string} `;
  return out.slice(0, chars);
}

/** Dead-letter and audit header names with values that would mislead a reader of the dead letter. */
export function spoofedHeaders(): Record<string, string> {
  return {
    'grantstream.dlq.stage': 'submission',
    'grantstream.dlq.source.topic': 'grants.routed.v1',
    'grantstream.dlq.source.partition': '7',
    'grantstream.dlq.source.offset': '999999',
    'grantstream.dlq.error.category': 'COMPLIANCE_BLOCK',
    'grantstream.dlq.error.code': 'SPOOFED',
    'grantstream.dlq.attempts': '99',
    'grantstream.dlq.redrive_count': '0',
    'grantstream.audit.head': '0'.repeat(64),
  };
}

/** An SCDA application (its funder accepts PDF, XLSX and DOCX) with one attachment. */
export function scda(ctx: HostileContext, id: string, ref: AttachmentRefV1): HostileRecord {
  const grantId = id.replace(/^[A-Z]+-/, 'SCDA-');
  return { ...record(ctx, grantId, valid(ctx, grantId, [ref])), grantId };
}

/**
 * The grant id of class `index` or of the sentinel behind it: NSF ids unique
 * to the run (classes that need another funder rewrite the prefix).
 */
export function hostileGrantId(tag: string, index: number, sentinel = false): string {
  return `NSF-2026-${String(index + 1).padStart(5, '0')}-${sentinel ? 'S' : 'H'}${tag}`;
}

/** A valid application that must pass: produced right behind a hostile record. */
export function sentinelRecord(ctx: HostileContext, index: number): HostileRecord {
  const id = hostileGrantId(ctx.tag, index, true);
  return { key: id, value: encodeSubmission(ctx, valid(ctx, id)), grantId: id };
}
