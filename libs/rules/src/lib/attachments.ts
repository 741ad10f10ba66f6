import type { AttachmentRules, FlagCode } from './rule-pack';

/**
 * What is known about one attachment when its rules are checked. Ingest may
 * check claimed facts before streaming (unknown ones are null); routing checks
 * the measured ones.
 */
export interface AttachmentFacts {
  /** File name as the funder portal would see it. */
  filename: string;
  /** Media type, or null when not known yet; an unknown type is never a finding. */
  media_type: string | null;
  /** Size in bytes, or null when not known yet; an unknown size is never a finding. */
  size_bytes: number | null;
}

/** One breach of a funder's attachment rules. */
export interface AttachmentFinding {
  /** The flag code, one of the ATTACHMENT_* codes. */
  code: FlagCode;
  /** A sentence for the person who fixes the package, with the numbers. */
  message: string;
  /** Index of the attachment the finding is about; null for the package as a whole. */
  index: number | null;
}

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Media types compare case-insensitively and without parameters ("application/PDF; x=y"). */
const baseType = (mediaType: string) => mediaType.split(';')[0]!.trim().toLowerCase();

function filenameRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u');
}

function filenamePatternMessage(name: string, re: RegExp, source: string): string {
  // Funder patterns are usually one character class; naming the offending
  // characters tells the applicant what to rename. For other patterns, the
  // single-character test is meaningless, so fall back to the pattern itself.
  const offending = [...new Set([...name].filter((c) => !re.test(c)))];
  const chars = [...new Set(name)];
  if (offending.length > 0 && offending.length < chars.length) {
    const list = offending.map((c) => `'${c}'`).join(', ');
    return `filename '${name}' contains ${list}, which the funder does not allow in filenames`;
  }
  return `filename '${name}' does not match the funder's filename rule ${source}`;
}

/**
 * Checks a package of attachments against a funder's attachment rules and
 * returns every finding: the package's count, each file's name, type and
 * size in submission order, the package's total size, then the required
 * attachments. Facts that are not known (null) are not judged, and the
 * required check runs only when every media type is known, since a missing
 * type could be the required one.
 */
export function attachmentFindings(
  facts: readonly AttachmentFacts[],
  rules: AttachmentRules,
): AttachmentFinding[] {
  const findings: AttachmentFinding[] = [];
  if (facts.length > rules.max_count) {
    findings.push({
      code: 'ATTACHMENT_COUNT_EXCEEDED',
      message: `the package has ${plural(facts.length, 'attachment')}; the funder allows at most ${rules.max_count}`,
      index: null,
    });
  }

  const pattern = filenameRegex(rules.filename_pattern);
  const allowed = new Set(rules.allowed_media_types.map(baseType));
  const firstIndexByName = new Map<string, number>();
  facts.forEach((f, index) => {
    const length = [...f.filename].length;
    if (length > rules.max_filename_length) {
      findings.push({
        code: 'ATTACHMENT_FILENAME_INVALID',
        message: `filename '${f.filename}' is ${length} characters; the funder allows at most ${rules.max_filename_length}`,
        index,
      });
    }
    if (!pattern.test(f.filename)) {
      findings.push({
        code: 'ATTACHMENT_FILENAME_INVALID',
        message: filenamePatternMessage(f.filename, pattern, rules.filename_pattern),
        index,
      });
    }
    if (rules.unique_filenames) {
      const key = f.filename.normalize('NFC').toLowerCase();
      const first = firstIndexByName.get(key);
      if (first === undefined) {
        firstIndexByName.set(key, index);
      } else {
        findings.push({
          code: 'ATTACHMENT_FILENAME_INVALID',
          message: `filename '${f.filename}' of attachments[${index}] repeats the filename of attachments[${first}]; the funder requires unique filenames (ignoring case)`,
          index,
        });
      }
    }
    if (f.media_type !== null && !allowed.has(baseType(f.media_type))) {
      findings.push({
        code: 'ATTACHMENT_TYPE_NOT_ALLOWED',
        message: `'${f.filename}' is ${f.media_type}; the funder accepts only ${rules.allowed_media_types.join(', ')}`,
        index,
      });
    }
    if (f.size_bytes !== null && f.size_bytes > rules.max_file_bytes) {
      findings.push({
        code: 'ATTACHMENT_TOO_LARGE',
        message: `'${f.filename}' is ${bytes(f.size_bytes)}; the funder allows at most ${bytes(rules.max_file_bytes)} per file`,
        index,
      });
    }
  });

  const total = facts.reduce((sum, f) => sum + (f.size_bytes ?? 0), 0);
  if (total > rules.max_package_bytes) {
    findings.push({
      code: 'ATTACHMENT_PACKAGE_TOO_LARGE',
      message: `the attachments total ${bytes(total)}; the funder allows at most ${bytes(rules.max_package_bytes)} per package`,
      index: null,
    });
  }

  if (facts.every((f) => f.media_type !== null)) {
    for (const req of rules.required) {
      const wanted = baseType(req.media_type);
      const have = facts.filter((f) => baseType(f.media_type ?? '') === wanted).length;
      if (have < req.min_count) {
        findings.push({
          code: 'ATTACHMENT_REQUIRED_MISSING',
          message: `${req.description} is missing: the funder requires ${plural(req.min_count, `${req.media_type} attachment`)} and the package has ${have}`,
          index: null,
        });
      }
    }
  }
  return findings;
}
