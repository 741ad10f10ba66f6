import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  AVRO_LOGICAL_TYPES,
  GrantSubmissionV2Avro,
  GrantSubmissionV2Schema,
  TOPICS,
  type AttachmentRefV1,
  type GrantSubmissionV2,
} from '@grantstream/contracts';
import {
  AvroBodyError,
  ContractViolationError,
  PipelineError,
  SchemaMismatchError,
  UnknownSchemaIdError,
} from '@grantstream/errors';
import { assertBoundedBody, parseWire } from '@grantstream/kafka';
import { testConfig } from '../environment';
import { framed } from './avro-bytes';
import { HOSTILE_TABLE_MARKERS, hostileClassTable } from './doc-table';
import type { HostileFiles } from './fixtures';
import {
  EXTENDED_SUBMISSION_SCHEMA,
  HOSTILE_CLASSES,
  OTHER_SUBJECT_SCHEMA,
  encodeSubmission,
  hostileGrantId,
  submissionBody,
  validSubmission,
  type HostileContext,
} from './hostile-classes';
import { hostileLimits } from './limits';
import { mutate } from './mutations';
import { SeededRandom, propertySeed } from './prng';

// The decode path every stage's runner takes for a GrantSubmission (wire
// header, bounded body check, avsc, the zod contract), without a registry:
// writer schemas are looked up in a table by id.
const decodeLimits = testConfig().registry.decodeLimits;
const typeOf = (schema: Schema) =>
  Type.forSchema(schema, {
    logicalTypes: { ...AVRO_LOGICAL_TYPES },
    registry: {},
    omitRecordMethods: true,
  });
const OWN = 101;
const EXTENDED = 102;
const OTHER = 103;
const reader = typeOf(GrantSubmissionV2Avro);
const writers = new Map<number, Type>([
  [OWN, reader],
  [EXTENDED, typeOf(EXTENDED_SUBMISSION_SCHEMA as Schema)],
  [OTHER, typeOf(OTHER_SUBJECT_SCHEMA as Schema)],
]);

function decode(value: Buffer | null): GrantSubmissionV2 {
  const { schemaId, body } = parseWire(value);
  const writer = writers.get(schemaId);
  if (!writer) throw new UnknownSchemaIdError(`schema id ${schemaId} is not known`);
  if (schemaId === OTHER) throw new SchemaMismatchError(`schema id ${schemaId} is not ours`);
  assertBoundedBody(writer, body, decodeLimits);
  let decoded: unknown;
  try {
    decoded =
      writer === reader
        ? reader.fromBuffer(body)
        : reader.fromBuffer(body, reader.createResolver(writer));
  } catch (err) {
    throw new AvroBodyError(`does not decode: ${(err as Error).message}`, { cause: err });
  }
  const parsed = GrantSubmissionV2Schema.safeParse(decoded);
  if (!parsed.success) throw new ContractViolationError(parsed.error.message);
  return parsed.data;
}

/** Codes the decode path itself gives; the stage's business rules come after it. */
const DECODE_CODES = new Set([
  'SCHEMA_WIRE_FORMAT',
  'SCHEMA_UNKNOWN_ID',
  'SCHEMA_SUBJECT_MISMATCH',
  'SCHEMA_BODY_INVALID',
  'SCHEMA_CONTRACT_VIOLATION',
]);

const NOW = Date.now();
const ref = (name: string): AttachmentRefV1 => ({
  uri: `file:///srv/attachments/${name}`,
  media_type: 'application/pdf',
  size_bytes: 4096,
  sha256: 'a'.repeat(64),
  filename: name,
});
const files: HostileFiles = {
  storeDir: '/srv/attachments',
  outsideDir: '/srv/elsewhere',
  pdf: ref('narrative.pdf'),
  truncatedPdf: ref('truncated.pdf'),
  encryptedPdf: ref('encrypted.pdf'),
  traversalXlsx: ref('traversal.xlsx'),
  manyEntriesXlsx: ref('many.xlsx'),
  docxWithoutEocd: ref('no-eocd.docx'),
  xlsxClaimingPdf: ref('budget.pdf'),
  linkOutside: ref('linked.pdf'),
};
const ctx: HostileContext = {
  tag: 'UNIT',
  ids: { own: OWN, extended: EXTENDED, otherSubject: OTHER, unknown: 0x7fff_fff0 },
  files,
  limits: hostileLimits(process.env),
  now: NOW,
};

/** Valid records of several shapes, the material mutations start from. */
function seeds(): Buffer[] {
  const base = validSubmission(hostileGrantId('UNIT', 0), [files.pdf, ref('budget.pdf')], NOW);
  const bare = { ...validSubmission(hostileGrantId('UNIT', 1), [], NOW), metadata: {} };
  const numeric = {
    ...base,
    metadata: { ...base.metadata, amount: 350_000.5, count: -3, ok: true, none: null },
  };
  return [
    encodeSubmission(ctx, base),
    encodeSubmission(ctx, bare),
    encodeSubmission(ctx, numeric),
    // Under the compatible version with an enum and a recursive type, both set.
    framed(
      EXTENDED,
      Buffer.concat([submissionBody(base), Buffer.from([0x02, 0x02, 0x02, 0x02, 0x00, 0x00])]),
    ),
  ];
}

/** Longest one mutated record may take through the path (a declared test bound; a loop over 2^31 items takes minutes). */
const MAX_MS_PER_RECORD = 2000;
/** Most the peak resident set may grow over the whole run (a declared test bound). */
const MAX_RSS_GROWTH_BYTES = 256 * 1024 * 1024;
const MUTATIONS = 5000;

describe('GrantSubmission decode path under random mutation', () => {
  it('every valid seed passes the path unchanged', () => {
    for (const s of seeds()) expect(() => decode(s)).not.toThrow();
  });

  it(`${MUTATIONS} mutations each decode to a value or throw a PipelineError, in bounded time and memory`, () => {
    const seed = propertySeed(process.env['HOSTILE_SEED']);
    console.info(`hostile decode property: seed ${seed} (HOSTILE_SEED=${seed} replays it)`);
    const rng = new SeededRandom(seed);
    const material = seeds();
    const rssBefore = process.resourceUsage().maxRSS * 1024;
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < MUTATIONS; i += 1) {
      const m = mutate(rng, rng.pick(material), rng.pick(material), 5);
      const started = performance.now();
      let outcome = 'decoded';
      try {
        decode(m.bytes);
      } catch (err) {
        if (!(err instanceof PipelineError)) {
          throw new Error(
            `seed ${seed}, mutation ${i} (${m.kind}: ${m.detail}) threw ${String(err)}, not a PipelineError`,
          );
        }
        outcome = err.code;
      }
      const took = performance.now() - started;
      slowest = Math.max(slowest, took);
      expect(took, `seed ${seed}, mutation ${i} (${m.kind}: ${m.detail})`).toBeLessThan(
        MAX_MS_PER_RECORD,
      );
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const growth = process.resourceUsage().maxRSS * 1024 - rssBefore;
    console.info(
      `outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; slowest ${slowest.toFixed(1)} ms; peak RSS grew ${(growth / 1048576).toFixed(1)} MB`,
    );
    expect(growth).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    // The mutations reach past the wire header into the body.
    expect(outcomes.get('SCHEMA_BODY_INVALID') ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('each wire, Avro and contract class ends on this path as it declares', () => {
    const classes = HOSTILE_CLASSES.map((c, index) => ({ c, index })).filter(
      ({ c }) =>
        (c.family === 'wire' || c.family === 'avro' || c.family === 'contract') &&
        // Refused by the runner's input bound before anything is decoded.
        !(c.expected.topic === TOPICS.DLQ && c.expected.code === 'INPUT_TOO_LARGE'),
    );
    const seen = classes.map(({ c, index }) => {
      try {
        decode(c.build(ctx, hostileGrantId(ctx.tag, index)).value);
        return { name: c.name, code: null };
      } catch (err) {
        return { name: c.name, code: err instanceof PipelineError ? err.code : String(err) };
      }
    });
    // Classes the stage's business rules reject decode here; the rest end as declared.
    expect(seen).toEqual(
      classes.map(({ c }) => ({
        name: c.name,
        code:
          c.expected.topic === TOPICS.DLQ && DECODE_CODES.has(c.expected.code)
            ? c.expected.code
            : null,
      })),
    );
  });
});

/** Table rows with cell padding and the separator row left out (the doc is Prettier-formatted). */
function tableRows(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) => l.replace(/\s+/g, ' ').trim());
}

describe('docs/hostile-input.md', () => {
  it('lists every hostile class and where it ends, as the generator declares', () => {
    const doc = readFileSync(resolve(__dirname, '../../../../../docs/hostile-input.md'), 'utf8');
    const start = doc.indexOf(HOSTILE_TABLE_MARKERS.start);
    const end = doc.indexOf(HOSTILE_TABLE_MARKERS.end);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(tableRows(doc.slice(start, end))).toEqual(tableRows(hostileClassTable()));
  });
});
