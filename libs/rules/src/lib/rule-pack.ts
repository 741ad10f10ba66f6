import { z } from 'zod';

/** How serious a compliance finding is; any CRITICAL finding blocks the grant. */
export const SEVERITIES = ['CRITICAL', 'WARNING', 'INFO'] as const;
/** One of {@link SEVERITIES}. */
export type Severity = (typeof SEVERITIES)[number];

/**
 * Canonical field types. Normalization parses a field to its type's canonical
 * text form; compliance rules then compare canonical values.
 * - text: NFC, trimmed, inner whitespace runs collapsed
 * - amount: US dollars in, integer cents out ("$1,250.50" -> "125050")
 * - date: ISO-8601 calendar date (YYYY-MM-DD)
 * - ein: NN-NNNNNNN; uei: 12 upper-case letters and digits (SAM.gov)
 * - email: trimmed, domain lower-cased; integer: base-10 digits
 * - code: trimmed, upper-cased; list: items trimmed, joined with "; "
 */
export const FIELD_TYPES = [
  'text',
  'amount',
  'date',
  'ein',
  'uei',
  'email',
  'integer',
  'code',
  'list',
] as const;
/** One of {@link FIELD_TYPES}. */
export type FieldType = (typeof FIELD_TYPES)[number];

/**
 * Finding codes compliance routing emits. Each has a default severity in
 * {@link DEFAULT_SEVERITIES}; a rule pack may override any of them.
 */
export const FLAG_CODES = [
  'UNKNOWN_FUNDER',
  'MISSING_REQUIRED_FIELD',
  'TRUNCATION_RISK',
  'PATTERN_MISMATCH',
  'VALUE_NOT_ALLOWED',
  'AMOUNT_OUT_OF_RANGE',
  'INVALID_FORMAT',
  'DEADLINE_PASSED',
  'DEADLINE_AT_RISK',
  'PORTAL_MISMATCH',
  'ATTACHMENT_TYPE_NOT_ALLOWED',
  'ATTACHMENT_REQUIRED_MISSING',
  'ATTACHMENT_TOO_LARGE',
  'ATTACHMENT_PACKAGE_TOO_LARGE',
  'ATTACHMENT_COUNT_EXCEEDED',
  'ATTACHMENT_FILENAME_INVALID',
  // Structural checks of an attachment's content by type, made at ingest.
  'PDF_HEADER_INVALID',
  'PDF_TRUNCATED',
  'PDF_XREF_MISSING',
  'PDF_ENCRYPTED',
  'PDF_ACTIVE_CONTENT',
  'PDF_UNSCANNABLE',
  'ZIP_EOCD_MISSING',
  'ZIP_CENTRAL_DIRECTORY_INVALID',
  'ZIP64_UNSUPPORTED',
  'ZIP_TOO_MANY_ENTRIES',
  'ZIP_BOMB',
  'ZIP_PATH_TRAVERSAL',
  'ZIP_ENCRYPTED',
  'ZIP_UNSCANNABLE',
  'OOXML_PART_MISSING',
] as const;
/** One of {@link FLAG_CODES}. */
export type FlagCode = (typeof FLAG_CODES)[number];

/** Severity of each finding code when the funder's pack does not say otherwise. */
export const DEFAULT_SEVERITIES: Readonly<Record<FlagCode, Severity>> = {
  UNKNOWN_FUNDER: 'CRITICAL',
  MISSING_REQUIRED_FIELD: 'CRITICAL',
  TRUNCATION_RISK: 'CRITICAL',
  PATTERN_MISMATCH: 'CRITICAL',
  VALUE_NOT_ALLOWED: 'CRITICAL',
  AMOUNT_OUT_OF_RANGE: 'CRITICAL',
  INVALID_FORMAT: 'CRITICAL',
  DEADLINE_PASSED: 'CRITICAL',
  DEADLINE_AT_RISK: 'WARNING',
  PORTAL_MISMATCH: 'WARNING',
  ATTACHMENT_TYPE_NOT_ALLOWED: 'CRITICAL',
  ATTACHMENT_REQUIRED_MISSING: 'CRITICAL',
  ATTACHMENT_TOO_LARGE: 'CRITICAL',
  ATTACHMENT_PACKAGE_TOO_LARGE: 'CRITICAL',
  ATTACHMENT_COUNT_EXCEEDED: 'CRITICAL',
  ATTACHMENT_FILENAME_INVALID: 'CRITICAL',
  // A file the portal cannot open, or would refuse after submission, blocks.
  // Active content blocks unless the funder's pack lowers it: some portals
  // take fillable forms with scripts, Grants.gov-style ones do not.
  PDF_HEADER_INVALID: 'CRITICAL',
  PDF_TRUNCATED: 'CRITICAL',
  PDF_XREF_MISSING: 'CRITICAL',
  PDF_ENCRYPTED: 'CRITICAL',
  PDF_ACTIVE_CONTENT: 'CRITICAL',
  PDF_UNSCANNABLE: 'CRITICAL',
  ZIP_EOCD_MISSING: 'CRITICAL',
  ZIP_CENTRAL_DIRECTORY_INVALID: 'CRITICAL',
  ZIP64_UNSUPPORTED: 'CRITICAL',
  ZIP_TOO_MANY_ENTRIES: 'CRITICAL',
  ZIP_BOMB: 'CRITICAL',
  ZIP_PATH_TRAVERSAL: 'CRITICAL',
  ZIP_ENCRYPTED: 'CRITICAL',
  ZIP_UNSCANNABLE: 'CRITICAL',
  OOXML_PART_MISSING: 'CRITICAL',
};

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const severity = z.enum(SEVERITIES);

const regexSource = z.string().refine(
  (s) => {
    try {
      new RegExp(s, 'u');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not an IANA time zone' },
);

/** Rules of one canonical field: where its value comes from, its type, and its constraints. */
export const fieldRuleSchema = z
  .strictObject({
    type: z.enum(FIELD_TYPES),
    /**
     * Submission metadata keys this field is read from, first present wins.
     * Keys are matched case- and separator-insensitively ("Project Title" = project_title).
     */
    from: z.array(z.string().min(1)).min(1),
    required: z.boolean().default(false),
    /** Longest value the portal keeps; a longer one would be truncated (TRUNCATION_RISK). */
    max_length: z.int().positive().optional(),
    /** Regular expression (unicode) the canonical value must match in full. */
    pattern: regexSource.optional(),
    /** Canonical values allowed (compared after normalization). */
    allowed: z.array(z.string()).min(1).optional(),
    /** Inclusive bounds: dollars for amount fields, the number for integer fields. */
    min: z.number().optional(),
    max: z.number().optional(),
    /** Per-field severity overrides by finding code. */
    severity: z.partialRecord(z.enum(FLAG_CODES), severity).optional(),
  })
  .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
    message: 'min is greater than max',
  });
/** Parsed {@link fieldRuleSchema}. */
export type FieldRule = z.infer<typeof fieldRuleSchema>;

/** A funder's attachment rules (Grants.gov-style by default: 50-character names, 200 MB packages). */
export const attachmentRulesSchema = z.strictObject({
  /** Media types sniffed from content that the funder accepts. */
  allowed_media_types: z.array(z.string().min(1)).min(1),
  max_file_bytes: z.int().positive(),
  max_package_bytes: z.int().positive(),
  max_count: z.int().positive(),
  max_filename_length: z.int().positive(),
  /** Characters a filename may use, as a regular expression matched against the whole name. */
  filename_pattern: regexSource,
  unique_filenames: z.boolean().default(true),
  /** Attachments the package must contain, by sniffed media type. */
  required: z
    .array(
      z.strictObject({
        media_type: z.string().min(1),
        min_count: z.int().positive().default(1),
        description: z.string().min(1),
      }),
    )
    .default([]),
});
/** Parsed {@link attachmentRulesSchema}. */
export type AttachmentRules = z.infer<typeof attachmentRulesSchema>;

/**
 * One funder's versioned rule pack (a YAML file). The same pack drives
 * ingest (attachment rules), normalization (field sources and types) and
 * compliance routing (every constraint); its version is recorded on every
 * decision so a replay can tell which rules decided.
 */
export const rulePackSchema = z.strictObject({
  funder_id: z.string().regex(/^[A-Z][A-Z0-9]{1,15}$/, 'expected 2-16 upper-case letters/digits'),
  name: z.string().min(1),
  kind: z.enum(['federal', 'foundation', 'state']),
  version: z.string().min(1),
  /** The funder's time zone: deadlines and business days are counted there. */
  time_zone: timeZone,
  /** funder_portal value submissions to this funder should carry. */
  portal: z.string().min(1),
  deadline: z.strictObject({
    /** A deadline fewer than this many business days away is DEADLINE_AT_RISK. */
    buffer_business_days: z.int().nonnegative(),
    /** Days that are not business days besides Saturdays and Sundays. */
    holidays: z.array(isoDate).default([]),
  }),
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), fieldRuleSchema),
  attachments: attachmentRulesSchema,
  /** Pack-wide severity overrides by finding code. */
  severities: z.partialRecord(z.enum(FLAG_CODES), severity).default({}),
});
/** Parsed {@link rulePackSchema}. */
export type RulePack = z.infer<typeof rulePackSchema>;
