import { createHash } from 'node:crypto';
import { funderPrefixOf } from '@grantstream/contracts';
import {
  BCF_PROJECTS,
  BUDGET_LINES,
  COMMUNITY_ORGS,
  FAMILY_NAMES,
  GIVEN_NAMES,
  NSF_PROGRAMS,
  NSF_SUMMARY_SENTENCES,
  NSF_TITLE_PREFIXES,
  PARSERS,
  RESEARCH_ORGS,
  SCDA_PROJECTS,
  SUMMARY_SENTENCES,
  type NsfProgram,
} from './content';
import {
  PDF_HEADER,
  docxDocument,
  executableStub,
  pdfDocument,
  xlsxWorkbook,
  type Cell,
} from './documents';
import { BCF_PROGRAM_AREAS, FUNDERS, MEDIA, SCDA_COUNTIES, type FunderId } from './funders';
import type {
  DefectKind,
  Destination,
  ExampleApplication,
  ExampleAttachment,
  ExampleFile,
  ExpectedGrant,
  ExpectedOutcomes,
  GenerateOptions,
  GeneratedExamples,
  MetadataValue,
} from './model';
import { Prng } from './prng';
import {
  DAY,
  addMonths,
  dayBefore,
  isoDate,
  isoWithOffset,
  localDateAfter,
  usDate,
  zonedInstant,
  type CalendarDate,
} from './time';

/** Applications in the batch unless a count is given. */
export const DEFAULT_COUNT = 210;
/** Seed of the committed batch. */
export const DEFAULT_SEED = 20_261_201;
/** Keys of the metadata map of a too-many-keys application. */
export const OVERSIZED_METADATA_KEYS = 10_000;
/** Size of the oversize BCF attachment: above the pack's 25 MiB per file. */
export const OVERSIZE_BYTES = 26 * 1024 * 1024 + 1;
/** Length of the over-long NSF filename (the pack allows 50). */
export const LONG_FILENAME_LENGTH = 63;

/** Funder prefixes of the batch: the three configured funders and one no pack knows. */
type BatchFunder = FunderId | 'XYZF';

/** How many applications carry each defect, and for which funders (one entry per application). */
export const DEFECT_PLAN: Readonly<Record<DefectKind, readonly BatchFunder[]>> = {
  'unknown-funder': ['XYZF', 'XYZF', 'XYZF'],
  'bad-grant-id': ['NSF', 'BCF'],
  'too-many-metadata-keys': ['NSF', 'SCDA'],
  'deadline-passed': ['NSF', 'NSF', 'BCF', 'SCDA'],
  'deadline-at-risk': ['NSF', 'NSF', 'BCF', 'BCF', 'SCDA', 'SCDA'],
  'missing-required-field': ['NSF', 'NSF', 'BCF', 'SCDA'],
  'title-too-long': ['NSF', 'NSF', 'BCF', 'SCDA'],
  'amount-out-of-range': ['NSF', 'BCF', 'BCF', 'SCDA'],
  'value-not-allowed': ['BCF', 'BCF', 'SCDA', 'SCDA'],
  'budget-missing': ['BCF', 'BCF', 'BCF'],
  'path-traversal': ['NSF', 'SCDA'],
  'path-traversal-encoded': ['BCF', 'NSF'],
  'absolute-uri-outside-root': ['SCDA', 'NSF'],
  'symlink-outside-root': ['NSF', 'BCF'],
  'attachment-not-found': ['NSF', 'BCF', 'SCDA'],
  'checksum-mismatch': ['NSF', 'BCF', 'SCDA'],
  'executable-as-pdf': ['NSF', 'BCF', 'SCDA'],
  'oversize-attachment': ['BCF', 'BCF'],
  'duplicate-filenames': ['NSF', 'SCDA'],
  'filename-too-long': ['NSF', 'NSF'],
};

/** Number of applications with a defect. */
export const DEFECT_COUNT = Object.values(DEFECT_PLAN).reduce((n, f) => n + f.length, 0);

const ATTACHMENT_DEFECT_CODES: Partial<Record<DefectKind, string>> = {
  'path-traversal': 'ATTACHMENT_PATH_TRAVERSAL',
  'path-traversal-encoded': 'ATTACHMENT_PATH_TRAVERSAL',
  'absolute-uri-outside-root': 'ATTACHMENT_PATH_OUTSIDE_ROOT',
  'symlink-outside-root': 'ATTACHMENT_PATH_OUTSIDE_ROOT',
  'attachment-not-found': 'ATTACHMENT_NOT_FOUND',
  'checksum-mismatch': 'ATTACHMENT_CHECKSUM_MISMATCH',
  'oversize-attachment': 'ATTACHMENT_TOO_LARGE',
  'duplicate-filenames': 'ATTACHMENT_FILENAME_INVALID',
  'filename-too-long': 'ATTACHMENT_FILENAME_INVALID',
};

const BLOCK_CODES: Partial<Record<DefectKind, string>> = {
  'deadline-passed': 'DEADLINE_PASSED',
  'missing-required-field': 'MISSING_REQUIRED_FIELD',
  'title-too-long': 'TRUNCATION_RISK',
  'amount-out-of-range': 'AMOUNT_OUT_OF_RANGE',
  'value-not-allowed': 'VALUE_NOT_ALLOWED',
  'budget-missing': 'ATTACHMENT_REQUIRED_MISSING',
};

/** What the pipeline must do with an application of `funder` carrying `defect`. */
export function expectedOutcome(funder: string, defect: DefectKind | null): ExpectedGrant {
  const dlq = (category: string, code: string): ExpectedGrant => ({
    destination: 'dlq',
    category,
    codes: [code],
    defect,
  });
  const blocked = (code: string): ExpectedGrant => ({
    destination: 'blocked',
    category: 'COMPLIANCE_BLOCK',
    codes: [code],
    defect,
  });
  if (defect === null) return { destination: 'routed', codes: [], defect };
  switch (defect) {
    case 'unknown-funder':
      return dlq('UNKNOWN_FUNDER', 'UNKNOWN_FUNDER');
    case 'bad-grant-id':
      return dlq('SCHEMA_VIOLATION', 'GRANT_ID_FORMAT');
    case 'too-many-metadata-keys':
      return dlq('SCHEMA_VIOLATION', 'METADATA_TOO_MANY_KEYS');
    case 'executable-as-pdf':
      // The sniffed type is both not what was declared and not one the funder accepts.
      return {
        destination: 'dlq',
        category: 'ATTACHMENT_INVALID',
        codes: ['ATTACHMENT_TYPE_MISMATCH', 'ATTACHMENT_TYPE_NOT_ALLOWED'],
        defect,
      };
    case 'deadline-at-risk':
      return FUNDERS[funder as FunderId].atRiskBlocks
        ? blocked('DEADLINE_AT_RISK')
        : { destination: 'routed', codes: ['DEADLINE_AT_RISK'], defect };
    default: {
      const attachmentCode = ATTACHMENT_DEFECT_CODES[defect];
      if (attachmentCode) return dlq('ATTACHMENT_INVALID', attachmentCode);
      const blockCode = BLOCK_CODES[defect];
      if (blockCode) return blocked(blockCode);
      throw new Error(`no outcome for defect ${defect}`);
    }
  }
}

/** The funder a grant is counted under (a malformed id still counts under its funder). */
export { funderPrefixOf };

/** The key style of the parser that produced an application. */
type Profile = 'snake' | 'label' | 'camel' | 'form';
const PROFILES: readonly Profile[] = ['snake', 'label', 'camel', 'form'];

/** Metadata keys of each canonical field, by parser profile (snake, label, camel, form). */
const KEYS: Readonly<
  Record<FunderId, Readonly<Record<string, readonly [string, string, string, string]>>>
> = {
  NSF: {
    title: [
      'project_title',
      'Project Title',
      'projectTitle',
      "Descriptive Title of Applicant's Project",
    ],
    abstract: ['project_summary', 'Project Summary', 'projectSummary', 'Abstract'],
    requested_amount: [
      'requested_amount',
      'Requested Amount',
      'requestedAmount',
      'Total Federal Funds Requested',
    ],
    project_start_date: [
      'project_start_date',
      'Project Start Date',
      'projectStartDate',
      'Start Date',
    ],
    duration_months: ['duration_months', 'Duration (Months)', 'durationMonths', 'Duration'],
    applicant_name: ['organization_name', 'Organization Name', 'organizationName', 'Legal Name'],
    applicant_ein: ['applicant_ein', 'EIN', 'ein', 'Employer Identification Number'],
    applicant_uei: ['uei', 'UEI', 'applicantUei', 'SAM UEI'],
    pi_name: ['pi_name', 'PI Name', 'piName', 'Principal Investigator'],
    pi_email: ['pi_email', 'PI Email', 'piEmail', 'Email'],
    program_code: ['program_code', 'Program Code', 'programCode', 'Funding Opportunity Number'],
    assistance_listing: [
      'assistance_listing',
      'Assistance Listing',
      'assistanceListing',
      'CFDA Number',
    ],
  },
  BCF: {
    organization_name: ['organization_name', 'Organization Name', 'orgName', 'Applicant Name'],
    applicant_ein: ['ein', 'EIN', 'taxId', 'Tax ID'],
    title: ['project_title', 'Project Title', 'projectTitle', 'Title'],
    summary: ['summary', 'Project Summary', 'projectSummary', 'Abstract'],
    requested_amount: ['requested_amount', 'Amount Requested', 'amountRequested', 'Ask'],
    program_area: ['program_area', 'Program Area', 'programArea', 'Focus Area'],
    contact_email: ['contact_email', 'Contact Email', 'contactEmail', 'Email'],
    grant_period_months: [
      'grant_period_months',
      'Grant Period (Months)',
      'grantPeriodMonths',
      'Duration Months',
    ],
  },
  SCDA: {
    applicant_name: ['applicant_name', 'Applicant Name', 'applicantName', 'Organization Name'],
    applicant_uei: ['uei', 'UEI', 'applicantUei', 'Applicant UEI'],
    title: ['project_title', 'Project Title', 'projectTitle', 'Title'],
    requested_amount: ['requested_amount', 'Requested Amount', 'requestedAmount', 'Amount'],
    match_amount: ['match_amount', 'Match Amount', 'matchAmount', 'Local Match'],
    county: ['county', 'County', 'county', 'COUNTY'],
    project_start_date: [
      'project_start_date',
      'Project Start Date',
      'projectStartDate',
      'Start Date',
    ],
    project_end_date: ['project_end_date', 'Project End Date', 'projectEndDate', 'End Date'],
    contact_email: ['contact_email', 'Contact Email', 'contactEmail', 'Email'],
  },
};

/** What an attachment's bytes are made of. */
type DocKind = 'pdf' | 'xlsx' | 'docx' | 'exe';

interface DraftAttachment {
  /** Name as the funder portal sees it. */
  filename: string;
  /** Name on disk (always a safe slug, so relative URIs need no escaping). */
  diskName: string;
  doc: DocKind;
  /** Document heading ("Project Description", "Budget Workbook", ...). */
  heading: string;
  mediaType: string;
  claimMedia: boolean;
  claimSize: boolean;
  claimSha: boolean;
  /** URI written instead of `attachments/<grant id>/<diskName>`. */
  uri?: string;
  /** How the file is materialised: written, left out, a symlink, or a sparse file. */
  file: 'write' | 'absent' | { symlink: string } | { sparse: number };
  /** Claim a checksum of other bytes. */
  wrongSha?: boolean;
}

interface Draft {
  grantId: string;
  funder: BatchFunder;
  /** Whose rule pack shaped the application (an unknown funder's looks like a foundation's). */
  shape: FunderId;
  portal: string;
  timeZone: string;
  deadlineMs: number;
  auditMs: number;
  profile: Profile;
  /** Canonical field -> [metadata key, value]. */
  fields: Map<string, [string, MetadataValue]>;
  extras: [string, MetadataValue][];
  attachments: DraftAttachment[];
  programCode: string | null;
  applicantEin: string | null;
  /** Document content. */
  title: string;
  org: string;
  person: string;
  amount: number;
  sentences: string[];
  programLine: string;
  shuffleKeys: boolean;
}

interface Context {
  rng: Prng;
  now: number;
  year: number;
}

const slug = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const asciiLocal = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');

const dollars = (n: number, cents: boolean) =>
  `$${n.toLocaleString('en-US', { minimumFractionDigits: cents ? 2 : 0, maximumFractionDigits: 2 })}`;

/** A value the way a parser of `profile` writes a dollar amount. */
function amountValue(rng: Prng, profile: Profile, amount: number): MetadataValue {
  switch (profile) {
    case 'snake':
      return amount;
    case 'label':
      return dollars(amount, true);
    case 'camel':
      return String(amount);
    case 'form':
      return rng.chance(0.5) ? dollars(amount, false) : amount;
  }
}

function dateValue(profile: Profile, date: CalendarDate): string {
  return profile === 'label' || profile === 'form' ? usDate(date) : isoDate(date);
}

function integerValue(profile: Profile, n: number): MetadataValue {
  return profile === 'label' || profile === 'form' ? String(n) : n;
}

/** Free text with the noise parsers leave: stray spaces, doubled spaces, decomposed accents. */
function noisyText(rng: Prng, text: string): string {
  let out = text;
  if (rng.chance(0.3)) out = out.normalize('NFD');
  if (rng.chance(0.12)) out = `  ${out} `;
  else if (rng.chance(0.1)) out = out.replace(' ', '  ');
  else if (rng.chance(0.08)) out = `${out}\n`;
  return out;
}

/** An EIN with a valid IRS campus prefix. */
function ein(rng: Prng): string {
  const prefix = rng.pick([
    10, 12, 13, 20, 23, 26, 27, 33, 36, 41, 46, 52, 54, 61, 68, 74, 81, 84, 91, 94,
  ]);
  return `${prefix}-${rng.chars('0123456789', 7)}`;
}

function einValue(rng: Prng, profile: Profile, value: string): string {
  if (profile === 'camel' || profile === 'form') return value.replace('-', '');
  return rng.chance(0.1) ? ` ${value}` : value;
}

/** A SAM.gov UEI: 12 characters, letters (no I or O) and digits, not starting with 0. */
function uei(rng: Prng): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return rng.chars('ABCDEFGHJKLMNPQRSTUVWXYZ123456789', 1) + rng.chars(alphabet, 11);
}

function ueiValue(profile: Profile, value: string): string {
  if (profile === 'camel') return value.toLowerCase().replace(/(.{4})(?=.)/g, '$1 ');
  if (profile === 'form') return value.toLowerCase();
  return value;
}

function emailValue(rng: Prng, local: string, domain: string): string {
  if (rng.chance(0.2)) return `${local}@${domain.toUpperCase()}`;
  if (rng.chance(0.1)) return ` ${local}@${domain} `;
  return `${local}@${domain}`;
}

function personName(rng: Prng): { name: string; local: string } {
  const given = rng.pick(GIVEN_NAMES);
  const family = rng.pick(FAMILY_NAMES);
  return { name: `${given} ${family}`, local: `${asciiLocal(given)}.${asciiLocal(family)}` };
}

function extras(rng: Prng, profile: Profile): [string, MetadataValue][] {
  const label = profile === 'label' || profile === 'form';
  const pool: [string, MetadataValue][] = [
    [label ? 'Submitted Via' : 'submitted_via', rng.pick(PARSERS)],
    [label ? 'Page Count' : 'page_count', rng.int(4, 40)],
    [
      label ? 'Keywords' : 'keywords',
      rng.sample(
        ['rural', 'youth', 'equity', 'STEM', 'climate', 'health', 'workforce', 'housing'],
        rng.int(1, 3),
      ),
    ],
    [label ? 'Has Cost Share' : 'has_cost_share', rng.chance(0.4)],
    [label ? 'Indirect Cost Rate' : 'indirect_cost_rate', rng.pick([0.1, 0.15, 0.265, 0.3, 0.525])],
    [label ? 'Reviewer Notes' : 'reviewer_notes', null],
    [
      label ? 'Congressional District' : 'congressional_district',
      `${rng.pick(['CA', 'TX', 'OH', 'NY', 'IL', 'WA'])}-${rng.int(1, 30)}`,
    ],
    [label ? 'Intake Channel' : 'intake_channel', rng.pick(['email', 'portal', 'sftp', 'api'])],
  ];
  return rng.sample(pool, rng.int(1, 4));
}

function attachment(filename: string, doc: DocKind, heading: string, rng: Prng): DraftAttachment {
  const ext = doc === 'exe' ? 'pdf' : doc;
  const mediaType = doc === 'xlsx' ? MEDIA.xlsx : doc === 'docx' ? MEDIA.docx : MEDIA.pdf;
  const claimHash = rng.chance(0.9);
  return {
    filename,
    diskName: `${slug(heading)}.${ext}`,
    doc,
    heading,
    mediaType,
    claimMedia: rng.chance(0.8),
    claimSize: claimHash,
    claimSha: claimHash,
    file: 'write',
  };
}

/** Filename of a document as an applicant names it, in one of a few styles. */
function styledName(rng: Prng, words: string, ext: string, style: number): string {
  switch (style) {
    case 0:
      return `${words.replace(/ /g, '_')}.${ext}`;
    case 1:
      return `${words}.${ext}`;
    case 2:
      return `${words.replace(/ /g, '')}.${ext}`;
    default:
      return `${words.toLowerCase().replace(/ /g, '-')}.${ext}`;
  }
}

function deadlineFrom(
  ctx: Context,
  days: number,
  hour: number,
  minute: number,
  tz: string,
): number {
  return zonedInstant(localDateAfter(ctx.now, tz, days), hour, minute, tz);
}

function nsfDraft(ctx: Context, grantId: string): Draft {
  const { rng } = ctx;
  const f = FUNDERS.NSF;
  const profile = rng.pick(PROFILES);
  const program: NsfProgram = rng.pick(NSF_PROGRAMS);
  const org = rng.pick(RESEARCH_ORGS);
  const pi = personName(rng);
  const title = `${rng.pick(NSF_TITLE_PREFIXES)}${rng.pick(program.topics)}`;
  const amount = rng.int(120_000, 1_200_000);
  const duration = rng.pick([12, 24, 36, 36, 36, 48, 60]);
  const deadlineMs = deadlineFrom(ctx, program.deadlineInDays, 17, 0, f.timeZone);
  const start = addMonths(localDateAfter(deadlineMs, f.timeZone, 0), rng.int(6, 10));
  const sentences = [
    SUMMARY_SENTENCES[0]!
      .replace('{org}', org.name)
      .replace('{topic}', `to study ${title.replace(/^[^:]+: /, '').toLowerCase()}`),
    ...rng.sample(NSF_SUMMARY_SENTENCES, rng.int(2, 4)),
    ...rng.sample(SUMMARY_SENTENCES.slice(1), rng.int(1, 3)),
  ];
  const einText = ein(rng);
  const keys = KEYS.NSF;
  const k = (field: string) => keys[field]![PROFILES.indexOf(profile)]!;
  const code = profile === 'camel' ? program.code.toLowerCase() : program.code;
  const fields = new Map<string, [string, MetadataValue]>([
    ['title', [k('title'), noisyText(rng, title)]],
    ['abstract', [k('abstract'), sentences.join(' ')]],
    ['requested_amount', [k('requested_amount'), amountValue(rng, profile, amount)]],
    ['project_start_date', [k('project_start_date'), dateValue(profile, start)]],
    ['duration_months', [k('duration_months'), integerValue(profile, duration)]],
    ['applicant_name', [k('applicant_name'), noisyText(rng, org.name)]],
    ['applicant_ein', [k('applicant_ein'), einValue(rng, profile, einText)]],
    ['applicant_uei', [k('applicant_uei'), ueiValue(profile, uei(rng))]],
    ['pi_name', [k('pi_name'), noisyText(rng, pi.name)]],
    ['pi_email', [k('pi_email'), emailValue(rng, pi.local, org.domain)]],
    ['program_code', [k('program_code'), rng.chance(0.1) ? ` ${code} ` : code]],
    ['assistance_listing', [k('assistance_listing'), program.aln]],
  ]);
  const style = rng.int(0, 3);
  const supplements = rng.sample(
    [
      'Project Summary',
      'Budget Justification',
      'Biographical Sketch',
      'Data Management Plan',
      'References Cited',
      'Facilities Equipment and Other Resources',
      'Current and Pending Support',
    ],
    rng.int(1, 4),
  );
  const attachments = ['Project Description', ...supplements].map((words) =>
    attachment(styledName(rng, words, 'pdf', style), 'pdf', words, rng),
  );
  return {
    grantId,
    funder: 'NSF',
    shape: 'NSF',
    portal: f.portal,
    timeZone: f.timeZone,
    deadlineMs,
    auditMs: ctx.now - rng.int(2, 300) * 60_000,
    profile,
    fields,
    extras: extras(rng, profile),
    attachments,
    programCode: rng.chance(0.5) ? program.code : null,
    applicantEin: rng.chance(0.4) ? einText : null,
    title,
    org: org.name,
    person: `Principal Investigator: ${pi.name}`,
    amount,
    sentences,
    programLine: `${program.code} (${program.directorate}), Assistance Listing ${program.aln}`,
    shuffleKeys: rng.chance(0.3),
  };
}

function bcfDraft(ctx: Context, grantId: string): Draft {
  const { rng } = ctx;
  const f = FUNDERS.BCF;
  const profile = rng.pick(PROFILES);
  const area = rng.pick(BCF_PROGRAM_AREAS);
  const org = rng.pick(COMMUNITY_ORGS);
  const contact = personName(rng);
  const title = rng.pick(BCF_PROJECTS[area]!);
  const amount = rng.int(20, 300) * 500;
  const period = rng.pick([12, 12, 18, 24, 24, 36]);
  // The foundation runs two cycles; most applicants aim at the nearer one.
  const deadlineMs = deadlineFrom(ctx, rng.chance(0.7) ? 31 : 66, 17, 0, f.timeZone);
  const sentences = [
    SUMMARY_SENTENCES[0]!
      .replace('{org}', org.name)
      .replace('{topic}', `the ${title.toLowerCase()} project`),
    ...rng.sample(SUMMARY_SENTENCES.slice(1), rng.int(2, 4)),
  ];
  const einText = ein(rng);
  const k = (field: string) => KEYS.BCF[field]![PROFILES.indexOf(profile)]!;
  const areaText = profile === 'label' ? area.charAt(0) + area.slice(1).toLowerCase() : area;
  const fields = new Map<string, [string, MetadataValue]>([
    ['organization_name', [k('organization_name'), noisyText(rng, org.name)]],
    ['applicant_ein', [k('applicant_ein'), einValue(rng, profile, einText)]],
    ['title', [k('title'), noisyText(rng, title)]],
    ['summary', [k('summary'), sentences.join(' ')]],
    ['requested_amount', [k('requested_amount'), amountValue(rng, profile, amount)]],
    ['program_area', [k('program_area'), areaText]],
    ['contact_email', [k('contact_email'), emailValue(rng, contact.local, org.domain)]],
    ['grant_period_months', [k('grant_period_months'), integerValue(profile, period)]],
  ]);
  const spanish = org.name.startsWith('Fundación');
  const narrative = spanish ? 'Narrativa de la Propuesta' : 'Proposal Narrative';
  const budget = spanish ? `Presupuesto Año ${ctx.year + 1}` : `Budget (FY${ctx.year + 1})`;
  const attachments = [
    attachment(`${narrative}.pdf`, 'pdf', 'Proposal Narrative', rng),
    attachment(`${budget}.xlsx`, 'xlsx', 'Line-Item Budget', rng),
    ...rng
      .sample(
        ['Board of Directors', `Audited Financials ${ctx.year - 1}`, 'Letters of Support'],
        rng.int(0, 2),
      )
      .map((words) => attachment(`${words}.pdf`, 'pdf', words, rng)),
  ];
  return {
    grantId,
    funder: 'BCF',
    shape: 'BCF',
    portal: f.portal,
    timeZone: f.timeZone,
    deadlineMs,
    auditMs: ctx.now - rng.int(2, 300) * 60_000,
    profile,
    fields,
    extras: extras(rng, profile),
    attachments,
    programCode: null,
    applicantEin: rng.chance(0.3) ? einText : null,
    title,
    org: org.name,
    person: `Contact: ${contact.name}`,
    amount,
    sentences,
    programLine: `Bridgewater Community Foundation, ${area.toLowerCase()} program`,
    shuffleKeys: rng.chance(0.3),
  };
}

function scdaDraft(ctx: Context, grantId: string): Draft {
  const { rng } = ctx;
  const f = FUNDERS.SCDA;
  const profile = rng.pick(PROFILES);
  const county = rng.pick(SCDA_COUNTIES);
  const org = rng.pick(COMMUNITY_ORGS);
  const contact = personName(rng);
  const title = rng.pick(SCDA_PROJECTS);
  const amount = rng.int(150, 950) * 100;
  const deadlineMs = deadlineFrom(ctx, 45, 23, 59, f.timeZone);
  const start = addMonths(localDateAfter(deadlineMs, f.timeZone, 0), rng.int(2, 4));
  const end = dayBefore(addMonths(start, rng.pick([12, 18, 24])));
  const k = (field: string) => KEYS.SCDA[field]![PROFILES.indexOf(profile)]!;
  const countyText =
    profile === 'label'
      ? county
          .split(' ')
          .map((w) => w.charAt(0) + w.slice(1).toLowerCase())
          .join(' ')
      : county;
  const fields = new Map<string, [string, MetadataValue]>([
    ['applicant_name', [k('applicant_name'), noisyText(rng, org.name)]],
    ['applicant_uei', [k('applicant_uei'), ueiValue(profile, uei(rng))]],
    ['title', [k('title'), noisyText(rng, title)]],
    ['requested_amount', [k('requested_amount'), amountValue(rng, profile, amount)]],
  ]);
  if (rng.chance(0.6)) {
    fields.set('match_amount', [
      k('match_amount'),
      amountValue(rng, profile, Math.round((amount * rng.int(10, 50)) / 100)),
    ]);
  }
  fields.set('county', [k('county'), countyText]);
  fields.set('project_start_date', [k('project_start_date'), dateValue(profile, start)]);
  fields.set('project_end_date', [k('project_end_date'), dateValue(profile, end)]);
  fields.set('contact_email', [k('contact_email'), emailValue(rng, contact.local, org.domain)]);
  const sentences = [
    SUMMARY_SENTENCES[0]!
      .replace('{org}', org.name)
      .replace(
        '{topic}',
        `a ${title.toLowerCase()} serving ${county.toLowerCase().replace(/\b\w/g, (c) => c.toUpperCase())} County`,
      ),
    ...rng.sample(SUMMARY_SENTENCES.slice(1), rng.int(2, 3)),
  ];
  const docx = rng.chance(0.6);
  const attachments = [
    attachment('Budget_Workbook.xlsx', 'xlsx', 'Budget Workbook', rng),
    attachment(
      docx ? 'Project_Narrative.docx' : 'Project_Narrative.pdf',
      docx ? 'docx' : 'pdf',
      'Project Narrative',
      rng,
    ),
    ...rng
      .sample(['Site Map', 'Letters of Support', 'Match Commitment Letter'], rng.int(0, 2))
      .map((words) => attachment(`${words.replace(/ /g, '_')}.pdf`, 'pdf', words, rng)),
  ];
  const extraFields = extras(rng, profile);
  extraFields.push([
    profile === 'label' || profile === 'form' ? 'Project Description' : 'project_description',
    sentences[0]!,
  ]);
  return {
    grantId,
    funder: 'SCDA',
    shape: 'SCDA',
    portal: f.portal,
    timeZone: f.timeZone,
    deadlineMs,
    auditMs: ctx.now - rng.int(2, 300) * 60_000,
    profile,
    fields,
    extras: extraFields,
    attachments,
    programCode: null,
    applicantEin: null,
    title,
    org: org.name,
    person: `Contact: ${contact.name}`,
    amount,
    sentences,
    programLine: `State Community Development Agency, ${countyText} County`,
    shuffleKeys: rng.chance(0.3),
  };
}

const LONG_TITLE_TAILS = [
  'A Multi-Site, Mixed-Methods Study of Implementation and Scale-Up',
  'Long-Term Outcomes for Participants, Families and Partner Organizations',
  'Across Rural, Suburban and Urban Settings in Three Regions',
  'With a Replication Toolkit for Practitioners and Policymakers',
];

function setField(d: Draft, field: string, value: MetadataValue): void {
  const entry = d.fields.get(field);
  if (!entry) throw new Error(`${d.grantId}: no field ${field}`);
  d.fields.set(field, [entry[0], value]);
}

/** Turns a compliant draft into one with `defect`; `instance` picks a variant per funder. */
function applyDefect(ctx: Context, d: Draft, defect: DefectKind, instance: number): void {
  const { rng } = ctx;
  const extra = (uri?: string, file: DraftAttachment['file'] = 'write'): DraftAttachment => {
    // A name no base package uses, so the defect is the only thing wrong.
    const name = d.shape === 'BCF' ? 'Supplementary Letters.pdf' : 'Supplementary_Letters.pdf';
    const a = attachment(name, 'pdf', 'Supplementary Letters', rng);
    a.claimMedia = true;
    a.file = file;
    if (uri !== undefined) {
      a.uri = uri;
      a.claimSize = false;
      a.claimSha = false;
    }
    return a;
  };
  switch (defect) {
    case 'unknown-funder':
    case 'bad-grant-id':
      return;
    case 'too-many-metadata-keys': {
      const present = d.fields.size + d.extras.length;
      for (let i = 0; present + i < OVERSIZED_METADATA_KEYS; i++) {
        d.extras.push([`k${String(i).padStart(4, '0')}`, i % 7]);
      }
      return;
    }
    case 'deadline-passed':
      d.deadlineMs = ctx.now - 3 * DAY;
      return;
    case 'deadline-at-risk':
      d.deadlineMs = ctx.now + DAY;
      return;
    case 'missing-required-field': {
      const field =
        d.shape === 'NSF'
          ? instance % 2 === 0
            ? 'applicant_uei'
            : 'project_start_date'
          : d.shape === 'BCF'
            ? 'contact_email'
            : 'county';
      d.fields.delete(field);
      return;
    }
    case 'title-too-long': {
      const max = FUNDERS[d.shape].titleMax;
      let title = d.title;
      for (const tail of rng.shuffle(LONG_TITLE_TAILS)) {
        if (title.length > max + 15) break;
        title = `${title}: ${tail}`;
      }
      d.title = title;
      setField(d, 'title', title);
      return;
    }
    case 'amount-out-of-range': {
      const f = FUNDERS[d.shape];
      d.amount = d.shape === 'BCF' && instance % 2 === 0 ? 2_500 : Math.round(f.amountMax * 1.45);
      setField(d, 'requested_amount', amountValue(rng, d.profile, d.amount));
      return;
    }
    case 'value-not-allowed':
      if (d.shape === 'BCF')
        setField(d, 'program_area', instance % 2 === 0 ? 'YOUTH SPORTS' : 'Workforce');
      else setField(d, 'county', instance % 2 === 0 ? 'ORANGE' : 'Marin');
      return;
    case 'budget-missing':
      d.attachments = d.attachments.filter((a) => a.doc !== 'xlsx');
      return;
    case 'path-traversal':
      d.attachments.push(extra('attachments/../../../etc/passwd'));
      return;
    case 'path-traversal-encoded':
      d.attachments.push(extra('%2e%2e/%2e%2e/etc/hostname'));
      return;
    case 'absolute-uri-outside-root':
      d.attachments.push(extra('file:///etc/passwd'));
      return;
    case 'symlink-outside-root': {
      const a = extra(undefined, { symlink: '/etc/hostname' });
      a.claimSize = false;
      a.claimSha = false;
      d.attachments.push(a);
      return;
    }
    case 'attachment-not-found':
      d.attachments.push(extra(undefined, 'absent'));
      return;
    case 'checksum-mismatch': {
      const a = extra();
      a.claimSha = true;
      a.claimSize = true;
      a.wrongSha = true;
      d.attachments.push(a);
      return;
    }
    case 'executable-as-pdf': {
      const a = extra();
      a.doc = 'exe';
      a.claimSha = true;
      a.claimSize = true;
      d.attachments.push(a);
      return;
    }
    case 'oversize-attachment': {
      const a = attachment(
        `Audited Financials ${ctx.year - 1}.pdf`,
        'pdf',
        'Audited Financials Scan',
        rng,
      );
      a.claimMedia = true;
      a.claimSize = false;
      a.claimSha = false;
      a.file = { sparse: OVERSIZE_BYTES };
      d.attachments = d.attachments.filter((x) => x.filename !== a.filename);
      d.attachments.push(a);
      return;
    }
    case 'duplicate-filenames': {
      const first = d.attachments[0]!;
      const twin = attachment(first.filename, first.doc, `${first.heading} Revised`, rng);
      twin.claimMedia = true;
      d.attachments.push(twin);
      return;
    }
    case 'filename-too-long': {
      const stem = 'Facilities_Equipment_and_Other_Resources_Supplementary_Statement_v2';
      const name = `${stem.slice(0, LONG_FILENAME_LENGTH - 4)}.pdf`;
      const a = attachment(name, 'pdf', 'Facilities Statement', rng);
      d.attachments = d.attachments.filter(
        (x) => x.heading !== 'Facilities Equipment and Other Resources',
      );
      d.attachments.push(a);
      return;
    }
  }
}

function budgetRows(d: Draft): Cell[][] {
  let remaining = d.amount;
  const rows: Cell[][] = [
    ['Budget', d.title],
    ['Applicant', d.org],
    ['Grant application', d.grantId],
    [],
    ['Line item', 'Amount (USD)'],
  ];
  BUDGET_LINES.forEach((line, i) => {
    const value = i === BUDGET_LINES.length - 1 ? remaining : Math.round(d.amount * line.share);
    remaining -= value;
    rows.push([line.item, value]);
  });
  rows.push(['Total requested', d.amount]);
  return rows;
}

async function render(d: Draft, a: DraftAttachment): Promise<Uint8Array> {
  switch (a.doc) {
    case 'exe':
      return executableStub();
    case 'xlsx':
      return xlsxWorkbook('Budget', budgetRows(d));
    case 'docx':
      return docxDocument([a.heading, d.title, d.org, d.person, d.programLine, ...d.sentences]);
    case 'pdf':
      return pdfDocument({
        heading: a.heading,
        title: d.title,
        lines: [
          `Grant application ${d.grantId}`,
          d.org,
          d.person,
          d.programLine,
          '',
          ...d.sentences,
        ],
      });
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function finish(
  ctx: Context,
  d: Draft,
): Promise<{ app: ExampleApplication; files: ExampleFile[] }> {
  const files: ExampleFile[] = [];
  const attachments: ExampleAttachment[] = [];
  for (const a of d.attachments) {
    const path = `attachments/${d.grantId}/${a.diskName}`;
    const bytes = await render(d, a);
    const sha = a.wrongSha
      ? sha256(Buffer.concat([Buffer.from(bytes), Buffer.from('\n% revised\n')]))
      : sha256(bytes);
    // Keys in the order of the Avro record, so the lines read like the schema.
    const ref: ExampleAttachment = {
      uri: a.uri ?? path,
      ...(a.claimMedia ? { media_type: a.mediaType } : {}),
      ...(a.claimSize ? { size_bytes: bytes.length } : {}),
      ...(a.claimSha ? { sha256: sha } : {}),
      filename: a.filename,
    };
    attachments.push(ref);
    if (a.uri !== undefined || a.file === 'absent') continue;
    if (a.file === 'write') files.push({ kind: 'file', path, bytes });
    else if ('symlink' in a.file) files.push({ kind: 'symlink', path, target: a.file.symlink });
    else files.push({ kind: 'sparse', path, header: PDF_HEADER, size: a.file.sparse });
  }
  const entries: [string, MetadataValue][] = [...d.fields.values(), ...d.extras];
  const ordered = d.shuffleKeys && entries.length < 100 ? ctx.rng.shuffle(entries) : entries;
  const metadata: Record<string, MetadataValue> = {};
  for (const [key, value] of ordered) metadata[key] = value;
  const app: ExampleApplication = {
    grant_id: d.grantId,
    funder_portal: d.portal,
    submission_deadline: ctx.rng.chance(0.5)
      ? isoWithOffset(d.deadlineMs, d.timeZone)
      : new Date(d.deadlineMs).toISOString(),
    metadata,
    attachments,
    audit_timestamp: new Date(d.auditMs).toISOString(),
  };
  if (d.programCode !== null) app.program_code = d.programCode;
  if (d.applicantEin !== null) app.applicant_ein = d.applicantEin;
  return { app, files };
}

interface Slot {
  funder: BatchFunder;
  defect: DefectKind | null;
  instance: number;
}

function plan(rng: Prng, count: number): Slot[] {
  if (!Number.isInteger(count) || count < DEFECT_COUNT) {
    throw new RangeError(`count must be an integer of at least ${DEFECT_COUNT}, not ${count}`);
  }
  const slots: Slot[] = [];
  const perFunder: Record<BatchFunder, number> = { NSF: 0, BCF: 0, SCDA: 0, XYZF: 0 };
  for (const [defect, funders] of Object.entries(DEFECT_PLAN) as [DefectKind, BatchFunder[]][]) {
    const seen: Partial<Record<BatchFunder, number>> = {};
    for (const funder of funders) {
      const instance = seen[funder] ?? 0;
      seen[funder] = instance + 1;
      slots.push({ funder, defect, instance });
      perFunder[funder] += 1;
    }
  }
  // Compliant applications fill each funder up to its share of the known-funder total.
  const known = count - perFunder.XYZF;
  const target: Record<FunderId, number> = {
    NSF: Math.round(known * FUNDERS.NSF.share),
    BCF: Math.round(known * FUNDERS.BCF.share),
    SCDA: 0,
  };
  target.SCDA = known - target.NSF - target.BCF;
  let missing = 0;
  for (const funder of ['NSF', 'BCF', 'SCDA'] as const) {
    const n = target[funder] - perFunder[funder];
    for (let i = 0; i < n; i++) slots.push({ funder, defect: null, instance: i });
    missing += Math.max(0, -n);
  }
  // With a small count a funder's defects alone may exceed its share: the others give way.
  for (let i = 0; i < missing; ) {
    const victim = slots.findIndex((s) => s.defect === null);
    if (victim < 0) break;
    slots.splice(victim, 1);
    i += 1;
  }
  return rng.shuffle(slots);
}

const BAD_IDS: Partial<Record<BatchFunder, (year: number) => string>> = {
  NSF: (year) => `NSF_${year}_1`,
  BCF: (year) => `BCF-${String(year).slice(2)}-7`,
};

/**
 * Generates the example batch: realistic applications to NSF, BCF and SCDA,
 * most compliant, the rest each with one deliberate defect, together with the
 * outcome the pipeline must reach for every grant and the attachment files.
 * Deterministic for given options (no clock, no Math.random); asynchronous only
 * because pdf-lib is. Does no I/O: writeExamples puts the result on disk.
 */
export async function generateExamples(options: GenerateOptions): Promise<GeneratedExamples> {
  const { now } = options;
  if (!Number.isFinite(now)) throw new RangeError(`now must be epoch milliseconds, not ${now}`);
  const rng = new Prng(options.seed ?? DEFAULT_SEED);
  const ctx: Context = { rng, now, year: new Date(now).getUTCFullYear() };
  const slots = plan(rng, options.count ?? DEFAULT_COUNT);
  const nextNumber: Record<BatchFunder, number> = {
    NSF: rng.int(40, 400),
    BCF: rng.int(40, 400),
    SCDA: rng.int(40, 400),
    XYZF: rng.int(40, 400),
  };
  const applications: ExampleApplication[] = [];
  const files: ExampleFile[] = [];
  const grants: Record<string, ExpectedGrant> = {};
  for (const slot of slots) {
    nextNumber[slot.funder] += rng.int(1, 37);
    let grantId = `${slot.funder}-${ctx.year}-${String(nextNumber[slot.funder]).padStart(5, '0')}`;
    if (slot.defect === 'bad-grant-id') grantId = BAD_IDS[slot.funder]?.(ctx.year) ?? grantId;
    const shape: FunderId = slot.funder === 'XYZF' ? 'BCF' : slot.funder;
    const draft =
      shape === 'NSF'
        ? nsfDraft(ctx, grantId)
        : shape === 'BCF'
          ? bcfDraft(ctx, grantId)
          : scdaDraft(ctx, grantId);
    if (slot.funder === 'XYZF') {
      draft.funder = 'XYZF';
      draft.portal = 'xyzf-grants';
      draft.programLine = 'Xanadu Youth Zone Foundation, general operating support';
    }
    if (slot.defect) applyDefect(ctx, draft, slot.defect, slot.instance);
    const { app, files: appFiles } = await finish(ctx, draft);
    applications.push(app);
    files.push(...appFiles);
    grants[grantId] = expectedOutcome(slot.funder, slot.defect);
  }
  return { applications, files, expected: summarise(now, grants) };
}

function summarise(now: number, grants: Record<string, ExpectedGrant>): ExpectedOutcomes {
  const totals = { routed: 0, blocked: 0, dlq: 0 };
  const byFunder: ExpectedOutcomes['byFunder'] = {};
  for (const [grantId, g] of Object.entries(grants)) {
    const prefix = funderPrefixOf(grantId);
    const f = (byFunder[prefix] ??= { total: 0, routed: 0, blocked: 0, dlq: 0 });
    const d: Destination = g.destination;
    f.total += 1;
    f[d] += 1;
    totals[d] += 1;
  }
  const sortedByFunder: ExpectedOutcomes['byFunder'] = {};
  for (const key of Object.keys(byFunder).sort()) sortedByFunder[key] = byFunder[key]!;
  return {
    generatedFor: new Date(now).toISOString(),
    totals,
    byFunder: sortedByFunder,
    grants,
  };
}
