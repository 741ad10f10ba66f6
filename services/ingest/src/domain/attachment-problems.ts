import type { AttachmentRefV1, VerifiedAttachmentV1 } from '@grantstream/contracts';
import type { InputProblem } from '@grantstream/errors';
import {
  FLAG_CODES,
  attachmentFindings,
  severityOf,
  type AttachmentFacts,
  type AttachmentFinding,
  type AttachmentRules,
  type FlagCode,
  type RulePack,
  type Severity,
} from '@grantstream/rules';
import type { IngestLimits } from './ingest-limits';

/**
 * What streaming one attachment measured; the same fields as the storage
 * library's InspectedAttachment, restated so decisions need no I/O library.
 */
export interface InspectedAttachmentFacts {
  /** Lower-case hex SHA-256 of the bytes read. */
  sha256: string;
  /** Bytes read; a lower bound when {@link exceeded_limit}. */
  size_bytes: number;
  /** Media type sniffed from the content. */
  media_type: string;
  /** Reading stopped because the attachment passed the funder's per-file limit. */
  exceeded_limit: boolean;
  /** Structural defects found by type (codes of the funder's rule pack); none when not checked. */
  findings?: readonly { code: string; message: string }[];
  /** OOXML part names (lower-cased) of a readable ZIP container; null or absent otherwise. */
  package_parts?: readonly string[] | null;
}

/**
 * A structural finding the funder's rule pack ranks below CRITICAL: the
 * attachment passes and the finding is recorded with the grant.
 */
export interface AttachmentFlag {
  code: FlagCode;
  severity: Exclude<Severity, 'CRITICAL'>;
  message: string;
  /** `attachments[i]`. */
  field: string;
}

/** Structural findings split by the funder's severities: CRITICAL ones block, the rest are flags. */
export interface IntegrityVerdict {
  blocking: InputProblem[];
  flags: AttachmentFlag[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

const MEDIA = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  tiff: 'image/tiff',
} as const;

/** The content a filename extension promises, for the extensions a funder portal opens by name. */
const EXTENSION_MEDIA_TYPES: ReadonlyMap<string, string> = new Map([
  ['pdf', MEDIA.pdf],
  ['xlsx', MEDIA.xlsx],
  ['docx', MEDIA.docx],
  ['pptx', MEDIA.pptx],
  ['png', MEDIA.png],
  ['jpg', MEDIA.jpeg],
  ['jpeg', MEDIA.jpeg],
  ['gif', MEDIA.gif],
  ['tif', MEDIA.tiff],
  ['tiff', MEDIA.tiff],
]);

/** Sniffed types that are programs: never an application document, whatever the name says. */
const EXECUTABLE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/x-msdownload',
  'application/x-executable',
  'application/x-mach-binary',
  'application/x-sh',
]);

/** Ingest judges attachments one by one; whether required ones are present is routing's call. */
const NOT_INGEST_FINDINGS: ReadonlySet<FlagCode> = new Set<FlagCode>([
  'ATTACHMENT_REQUIRED_MISSING',
]);
/** Findings that only measured facts can newly raise. */
const MEASURED_FINDINGS: ReadonlySet<FlagCode> = new Set<FlagCode>([
  'ATTACHMENT_TYPE_NOT_ALLOWED',
  'ATTACHMENT_TOO_LARGE',
  'ATTACHMENT_PACKAGE_TOO_LARGE',
]);

const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`;

/** The problem field of attachment `index`, or of the package as a whole. */
export function attachmentField(index: number | null): string {
  return index === null ? 'attachments' : `attachments[${index}]`;
}

const FIELD_INDEX = /^attachments\[(\d+)\]/;

/**
 * Attachment problems in reading order: package-wide ones first, then each
 * attachment's in submission order (stable within one attachment).
 */
export function orderedByAttachment(problems: readonly InputProblem[]): InputProblem[] {
  const indexOf = (p: InputProblem): number => {
    const match = FIELD_INDEX.exec(p.field ?? '');
    return match ? Number(match[1]) : -1;
  };
  return problems
    .map((problem, order) => ({ problem, order, index: indexOf(problem) }))
    .sort((a, b) => a.index - b.index || a.order - b.order)
    .map((e) => e.problem);
}

function findingProblem(finding: AttachmentFinding): InputProblem {
  return { code: finding.code, message: finding.message, field: attachmentField(finding.index) };
}

function isAbsoluteUrl(uri: string): boolean {
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}

function essence(mediaType: string): string {
  return (mediaType.split(';')[0] ?? '').trim().toLowerCase();
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

/**
 * Judges attachment references before any byte is read: the package size
 * against ingest's hard cap, each URI, claimed checksum and size formats, and
 * the funder's rules that claims alone can break (filename length, characters
 * and uniqueness, count, a declared size over the limit). With more references
 * than ingest accepts, only that is reported: judging each one would let one
 * record buy unbounded work.
 */
export function attachmentReferenceProblems(
  refs: readonly AttachmentRefV1[],
  rules: AttachmentRules,
  limits: IngestLimits,
): InputProblem[] {
  if (refs.length > limits.maxAttachments) {
    return [
      {
        code: 'ATTACHMENT_COUNT_EXCEEDED',
        message: `the submission references ${refs.length.toLocaleString('en-US')} attachments; ingest accepts at most ${limits.maxAttachments}`,
        field: attachmentField(null),
      },
    ];
  }
  const problems: InputProblem[] = [];
  const facts: AttachmentFacts[] = refs.map((ref, index) => {
    const field = attachmentField(index);
    if (!isAbsoluteUrl(ref.uri)) {
      problems.push({
        code: 'ATTACHMENT_URI_INVALID',
        message: `uri ${JSON.stringify(ref.uri.slice(0, 200))} is not an absolute URL`,
        field,
      });
    }
    if (ref.sha256 !== null && !SHA256_HEX.test(ref.sha256)) {
      problems.push({
        code: 'ATTACHMENT_CHECKSUM_FORMAT',
        message: `sha256 ${JSON.stringify(ref.sha256.slice(0, 80))} is not 64 lower-case hexadecimal digits`,
        field,
      });
    }
    const sizeValid =
      ref.size_bytes === null || (Number.isSafeInteger(ref.size_bytes) && ref.size_bytes >= 0);
    if (!sizeValid) {
      problems.push({
        code: 'ATTACHMENT_SIZE_INVALID',
        message: `size_bytes ${ref.size_bytes} is not a byte count (a whole number of at least 0)`,
        field,
      });
    }
    return {
      filename: ref.filename,
      media_type: null,
      size_bytes: sizeValid ? ref.size_bytes : null,
    };
  });
  for (const finding of attachmentFindings(facts, rules)) {
    if (!NOT_INGEST_FINDINGS.has(finding.code)) problems.push(findingProblem(finding));
  }
  return orderedByAttachment(problems);
}

function typeProblems(ref: AttachmentRefV1, sniffed: string): string[] {
  const reasons: string[] = [];
  const name = JSON.stringify(ref.filename);
  if (ref.media_type !== null && essence(ref.media_type) !== essence(sniffed)) {
    reasons.push(`${name} was declared ${ref.media_type} but its content is ${sniffed}`);
  }
  if (EXECUTABLE_MEDIA_TYPES.has(sniffed)) {
    reasons.push(`${name} contains an executable program (${sniffed}), not a document`);
    return reasons;
  }
  const promised = EXTENSION_MEDIA_TYPES.get(extensionOf(ref.filename));
  if (promised !== undefined && promised !== essence(sniffed)) {
    reasons.push(`${name} is named like ${promised} but its content is ${sniffed}`);
  }
  return reasons;
}

/**
 * Judges attachments after streaming them, claims against measurements:
 * cut off over the per-file limit, checksum, size, declared type and filename
 * extension against the sniffed type, an executable under any name; then the
 * funder's rules on the measured facts (type allowed, file and package size).
 * `inspected[i]` is undefined for an attachment that could not be opened (its
 * problem is reported where opening failed).
 */
export function inspectedAttachmentProblems(
  refs: readonly AttachmentRefV1[],
  inspected: readonly (InspectedAttachmentFacts | undefined)[],
  rules: AttachmentRules,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const cutOff = new Set<number>();
  const facts: AttachmentFacts[] = refs.map((ref, index) => {
    const measured = inspected[index];
    if (measured === undefined)
      return { filename: ref.filename, media_type: null, size_bytes: null };
    const field = attachmentField(index);
    const name = JSON.stringify(ref.filename);
    if (measured.exceeded_limit) {
      cutOff.add(index);
      problems.push({
        code: 'ATTACHMENT_TOO_LARGE',
        message: `${name} is larger than the funder's limit of ${bytes(rules.max_file_bytes)} per file (reading stopped after ${bytes(measured.size_bytes)})`,
        field,
      });
    } else {
      // A checksum or size of a cut-off read says nothing about the file.
      if (ref.sha256 !== null && ref.sha256 !== measured.sha256) {
        problems.push({
          code: 'ATTACHMENT_CHECKSUM_MISMATCH',
          message: `${name} has SHA-256 ${measured.sha256}, not the ${ref.sha256} claimed`,
          field,
        });
      }
      if (ref.size_bytes !== null && ref.size_bytes !== measured.size_bytes) {
        problems.push({
          code: 'ATTACHMENT_SIZE_MISMATCH',
          message: `${name} is ${bytes(measured.size_bytes)}, not the ${bytes(ref.size_bytes)} claimed`,
          field,
        });
      }
    }
    for (const message of typeProblems(ref, measured.media_type)) {
      problems.push({ code: 'ATTACHMENT_TYPE_MISMATCH', message, field });
    }
    return {
      filename: ref.filename,
      media_type: measured.media_type,
      size_bytes: measured.size_bytes,
    };
  });
  for (const finding of attachmentFindings(facts, rules)) {
    if (!MEASURED_FINDINGS.has(finding.code)) continue;
    if (
      finding.code === 'ATTACHMENT_TOO_LARGE' &&
      finding.index !== null &&
      cutOff.has(finding.index)
    ) {
      continue;
    }
    problems.push(findingProblem(finding));
  }
  return orderedByAttachment(problems);
}

/**
 * The verified attachments of a submission whose attachments passed: the
 * measured facts, with the producer's type claim kept for reviewers. Throws
 * when `inspected` does not pair up with `refs`, which is a caller bug.
 */
export function verifiedAttachmentsOf(
  refs: readonly AttachmentRefV1[],
  inspected: readonly InspectedAttachmentFacts[],
): VerifiedAttachmentV1[] {
  if (inspected.length !== refs.length) {
    throw new Error(`${refs.length} attachment reference(s) but ${inspected.length} inspection(s)`);
  }
  return refs.map((ref, index) => {
    const measured = inspected[index];
    if (measured === undefined) throw new Error(`attachments[${index}] was not inspected`);
    return {
      uri: ref.uri,
      filename: ref.filename,
      media_type: measured.media_type,
      declared_media_type: ref.media_type,
      size_bytes: measured.size_bytes,
      sha256: measured.sha256,
    };
  });
}

const FLAG_CODE_SET: ReadonlySet<string> = new Set(FLAG_CODES);

/** The OOXML type an attachment claims (declared type, else its extension, else its content), if any. */
const OOXML_MAIN_PARTS: ReadonlyMap<string, { part: string; kind: string }> = new Map([
  [MEDIA.xlsx, { part: 'xl/workbook.xml', kind: 'workbook' }],
  [MEDIA.docx, { part: 'word/document.xml', kind: 'document' }],
  [MEDIA.pptx, { part: 'ppt/presentation.xml', kind: 'presentation' }],
]);
const CONTENT_TYPES_PART = '[content_types].xml';

function claimedOoxml(ref: AttachmentRefV1, sniffed: string): string | undefined {
  const candidates = [
    ref.media_type === null ? undefined : essence(ref.media_type),
    EXTENSION_MEDIA_TYPES.get(extensionOf(ref.filename)),
    essence(sniffed),
  ];
  return candidates.find((c) => c !== undefined && OOXML_MAIN_PARTS.has(c));
}

/**
 * Judges what the structural check found in each attachment read to its end
 * (a cut-off read is judged by size alone): every finding, plus
 * OOXML_PART_MISSING when a readable ZIP lacks [Content_Types].xml or the
 * main part of the type it claims to be. Each is ranked by the funder's rule
 * pack: CRITICAL blocks (ATTACHMENT_INVALID with the finding's code), WARNING
 * and INFO pass as flags. A code the pack does not know blocks.
 */
export function integrityVerdict(
  refs: readonly AttachmentRefV1[],
  inspected: readonly (InspectedAttachmentFacts | undefined)[],
  pack: RulePack,
): IntegrityVerdict {
  const verdict: IntegrityVerdict = { blocking: [], flags: [] };
  refs.forEach((ref, index) => {
    const measured = inspected[index];
    if (measured === undefined || measured.exceeded_limit) return;
    const field = attachmentField(index);
    const name = JSON.stringify(ref.filename);
    const found = [...(measured.findings ?? [])];
    const ooxml = claimedOoxml(ref, measured.media_type);
    const parts = measured.package_parts;
    if (ooxml !== undefined && parts !== null && parts !== undefined) {
      const main = OOXML_MAIN_PARTS.get(ooxml);
      for (const part of [CONTENT_TYPES_PART, main?.part]) {
        if (part !== undefined && !parts.includes(part)) {
          found.push({
            code: 'OOXML_PART_MISSING',
            message: `it is a ${main?.kind ?? 'package'} without its ${part === CONTENT_TYPES_PART ? '[Content_Types].xml' : part} part`,
          });
        }
      }
    }
    for (const finding of found) {
      const message = `${name}: ${finding.message}`;
      const code = FLAG_CODE_SET.has(finding.code) ? (finding.code as FlagCode) : null;
      const severity = code === null ? 'CRITICAL' : severityOf(pack, code);
      if (severity === 'CRITICAL' || code === null) {
        verdict.blocking.push({ code: finding.code, message, field });
      } else {
        verdict.flags.push({ code, severity, message, field });
      }
    }
  });
  return verdict;
}

/**
 * Flags as one audit detail value, `attachments[0]:PDF_ACTIVE_CONTENT:WARNING`
 * items joined by `; `, so a reviewer sees what passed with a finding.
 */
export function attachmentFlagsDetail(flags: readonly AttachmentFlag[]): string {
  return flags.map((f) => `${f.field}:${f.code}:${f.severity}`).join('; ');
}
