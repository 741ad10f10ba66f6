/** Media types the example attachments are claimed and sniffed as. */
export const MEDIA = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;

/** The funders the batch is generated for. */
export type FunderId = 'NSF' | 'BCF' | 'SCDA';

/**
 * What the generator needs to know of each funder's rule pack
 * (examples/rule-packs/*.yaml). The generator is pure and does not read the
 * packs; a spec checks this table against them so the two cannot drift.
 */
export interface FunderFacts {
  portal: string;
  timeZone: string;
  /** Share of the known-funder applications. */
  share: number;
  titleMax: number;
  summaryMax: number | null;
  amountMin: number;
  amountMax: number;
  maxFileBytes: number;
  maxFilenameLength: number;
  /** Whether a deadline inside the buffer blocks (CRITICAL) or only flags (WARNING). */
  atRiskBlocks: boolean;
}

/** The three funders of the example batch. */
export const FUNDERS: Readonly<Record<FunderId, FunderFacts>> = {
  NSF: {
    portal: 'grants-gov',
    timeZone: 'America/New_York',
    share: 0.45,
    titleMax: 180,
    summaryMax: 4600,
    amountMin: 10_000,
    amountMax: 5_000_000,
    maxFileBytes: 209_715_200,
    maxFilenameLength: 50,
    atRiskBlocks: false,
  },
  BCF: {
    portal: 'bcf-portal',
    timeZone: 'America/Chicago',
    share: 0.3,
    titleMax: 150,
    summaryMax: 2000,
    amountMin: 5_000,
    amountMax: 250_000,
    maxFileBytes: 26_214_400,
    maxFilenameLength: 100,
    atRiskBlocks: false,
  },
  SCDA: {
    portal: 'scda-egrants',
    timeZone: 'America/Los_Angeles',
    share: 0.25,
    titleMax: 100,
    summaryMax: null,
    amountMin: 1_000,
    amountMax: 100_000,
    maxFileBytes: 52_428_800,
    maxFilenameLength: 64,
    atRiskBlocks: true,
  },
};

/** BCF program areas the pack allows. */
export const BCF_PROGRAM_AREAS = ['EDUCATION', 'HEALTH', 'ENVIRONMENT', 'ARTS', 'HOUSING'] as const;

/** SCDA counties the pack allows. */
export const SCDA_COUNTIES = [
  'ALAMEDA',
  'FRESNO',
  'KERN',
  'LOS ANGELES',
  'SACRAMENTO',
  'SAN DIEGO',
  'SANTA CLARA',
] as const;
