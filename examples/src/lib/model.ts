/** A metadata value as upstream parsers write it (the Avro union of GrantSubmission.metadata). */
export type MetadataValue = null | boolean | number | string | string[];

/** One attachment reference in the grantctl JSON form. */
export interface ExampleAttachment {
  /** Relative (`attachments/<grant_id>/<file>`, resolved by `grantctl submit`) or absolute. */
  uri: string;
  media_type?: string;
  size_bytes?: number;
  sha256?: string;
  filename: string;
}

/** One application line of examples/applications.jsonl: the JSON form `grantctl submit` reads. */
export interface ExampleApplication {
  grant_id: string;
  funder_portal: string;
  /** ISO-8601 with an offset. */
  submission_deadline: string;
  metadata: Record<string, MetadataValue>;
  attachments: ExampleAttachment[];
  /** ISO-8601. */
  audit_timestamp: string;
  program_code?: string;
  applicant_ein?: string;
}

/** Where a grant ends up in the pipeline. */
export type Destination = 'routed' | 'blocked' | 'dlq';

/** Every deliberate defect of the batch (null in the expected outcomes means compliant). */
export const DEFECT_KINDS = [
  'unknown-funder',
  'bad-grant-id',
  'too-many-metadata-keys',
  'deadline-passed',
  'deadline-at-risk',
  'missing-required-field',
  'title-too-long',
  'amount-out-of-range',
  'value-not-allowed',
  'budget-missing',
  'path-traversal',
  'path-traversal-encoded',
  'absolute-uri-outside-root',
  'symlink-outside-root',
  'attachment-not-found',
  'checksum-mismatch',
  'executable-as-pdf',
  'oversize-attachment',
  'duplicate-filenames',
  'filename-too-long',
] as const;
/** One of {@link DEFECT_KINDS}. */
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** What the pipeline should do with one grant. */
export interface ExpectedGrant {
  destination: Destination;
  /** Error category of a dead letter or block (absent for routed grants). */
  category?: string;
  /**
   * Every distinct code the deciding stage reports, in its order: for a dead
   * letter the problem codes, the first being the error code (the
   * `grantstream.dlq.error.code` header); for a routed or blocked grant the
   * compliance flag codes (empty for a compliant grant).
   */
  codes: string[];
  defect: DefectKind | null;
}

/** Counts per destination. */
export interface DestinationCounts {
  routed: number;
  blocked: number;
  dlq: number;
}

/** examples/expected-outcomes.json. */
export interface ExpectedOutcomes {
  /** The `now` the batch was generated for, ISO-8601. */
  generatedFor: string;
  totals: DestinationCounts;
  /** Per funder prefix of the grant id (unknown funders and malformed ids under their prefix). */
  byFunder: Record<string, DestinationCounts & { total: number }>;
  grants: Record<string, ExpectedGrant>;
}

/** A file the batch needs on disk, relative to the output directory (POSIX separators). */
export type ExampleFile =
  | { kind: 'file'; path: string; bytes: Uint8Array }
  /** A symbolic link whose target lies outside the attachment root. */
  | { kind: 'symlink'; path: string; target: string }
  /** `header` followed by a hole up to `size` bytes (written with truncate, so it costs no disk). */
  | { kind: 'sparse'; path: string; header: Uint8Array; size: number };

/** A generated batch: application lines, their expected outcomes, and the files they reference. */
export interface GeneratedExamples {
  applications: ExampleApplication[];
  expected: ExpectedOutcomes;
  files: ExampleFile[];
}

/** Options of generateExamples. */
export interface GenerateOptions {
  /** The instant deadlines are set relative to (epoch ms); the generator reads no clock. */
  now: number;
  /** Number of applications (at least the number of defect applications); 210 by default. */
  count?: number;
  /**
   * Seed of the pseudo-random choices (names, amounts, grant ids). The default
   * gives the committed batch; another seed gives other grant ids, for runs
   * against a broker that already holds the default batch.
   */
  seed?: number;
}
