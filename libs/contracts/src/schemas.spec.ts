import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type * as avro from 'avsc';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AVRO_LOGICAL_TYPES,
  avroTypeFor,
  RECORD_VERSIONS,
  SUBJECTS,
  TOPIC_DECLARATIONS,
  TOPICS,
  type RecordVersion,
} from './index';

// CI's contract check: every schema version reads every older one, every sample
// payload is judged the same by avsc and by the generated zod schema.

const ROOT = join(__dirname, '../../..');
const SCHEMAS = join(ROOT, 'schemas');
const FIXTURES = join(ROOT, 'test/fixtures/contracts');

interface SchemaVersionFile {
  record: string;
  version: number;
  file: string;
  schema: avro.Schema;
}

/** Discovered independently of codegen, so a schema codegen missed still gets checked. */
function discoverSchemas(dir: string): SchemaVersionFile[] {
  const out: SchemaVersionFile[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      out.push(...discoverSchemas(full));
      continue;
    }
    const match = /^([A-Za-z0-9]+)\.v(\d+)\.avsc$/.exec(entry);
    if (!match) continue;
    out.push({
      record: match[1] as string,
      version: Number(match[2]),
      file: relative(SCHEMAS, full).split(sep).join('/'),
      schema: JSON.parse(readFileSync(full, 'utf8')) as avro.Schema,
    });
  }
  return out.sort((a, b) => a.record.localeCompare(b.record) || a.version - b.version);
}

interface Fixture {
  name: string;
  record: string;
  minVersion?: number;
  expect?: { path: string; zodCode: string };
  payload: Record<string, unknown>;
}

function loadFixtures(kind: 'ok' | 'not-ok'): Fixture[] {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(
      (f) =>
        ({ name: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as object) }) as Fixture,
    );
}

const schemas = discoverSchemas(SCHEMAS);
const byRecord = new Map<string, SchemaVersionFile[]>();
for (const s of schemas) byRecord.set(s.record, [...(byRecord.get(s.record) ?? []), s]);

function generatedFor(file: string): RecordVersion {
  const found = RECORD_VERSIONS.find((r) => r.file === file);
  if (!found) throw new Error(`${file} has no generated counterpart: run npm run codegen`);
  return found;
}

function versionsFor(fixture: Fixture): SchemaVersionFile[] {
  const versions = byRecord.get(fixture.record) ?? [];
  return versions.filter((v) => v.version >= (fixture.minVersion ?? 1));
}

/** Every path avsc blames, dotted; undeclared fields count as errors. */
function avroProblems(type: avro.Type, payload: unknown): string[] {
  const paths: string[] = [];
  type.isValid(payload, {
    noUndeclaredFields: true,
    errorHook: (path: string[]) => paths.push(path.join('.')),
  });
  return paths;
}

function zodProblems(schema: z.ZodType, payload: unknown): { path: string; code: string }[] {
  const result = schema.safeParse(payload);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code }));
}

const under = (path: string, prefix: string): boolean =>
  prefix === '' || path === prefix || path.startsWith(`${prefix}.`);

describe('schema files', () => {
  it('are discovered', () => {
    expect(schemas.map((s) => s.file)).toContain('ingest/GrantSubmission.v1.avsc');
  });

  it.each(schemas.map((s) => [s.file, s] as const))('%s has generated code', (file) => {
    expect(generatedFor(file).avro).toEqual(schemas.find((s) => s.file === file)?.schema);
  });

  it('use only logical types avsc knows or that we register', () => {
    const standard = new Set([
      'timestamp-millis',
      'timestamp-micros',
      'date',
      'time-millis',
      'uuid',
      'decimal',
    ]);
    const found = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        const lt = (node as { logicalType?: unknown }).logicalType;
        if (typeof lt === 'string') found.add(lt);
        Object.values(node).forEach(walk);
      }
    };
    schemas.forEach((s) => walk(s.schema));
    for (const lt of found) expect(standard.has(lt) || lt in AVRO_LOGICAL_TYPES, lt).toBe(true);
    expect(found).toContain('grantstream-metadata');
  });
});

describe('BACKWARD compatibility: every version reads every older one', () => {
  const pairs = [...byRecord.values()].flatMap((versions) =>
    versions.flatMap((reader) =>
      versions.filter((w) => w.version < reader.version).map((writer) => [reader, writer] as const),
    ),
  );

  it('covers GrantSubmission v2 reading v1', () => {
    expect(pairs.map(([r, w]) => `${w.file} -> ${r.file}`)).toContain(
      'ingest/GrantSubmission.v1.avsc -> ingest/GrantSubmission.v2.avsc',
    );
  });

  it.each(pairs.map(([r, w]) => [r.file, w.file, r, w] as const))(
    '%s reads %s',
    (_r, _w, reader, writer) => {
      const readerType = avroTypeFor(reader.schema);
      const writerType = avroTypeFor(writer.schema);
      const resolver = readerType.createResolver(writerType);
      const okFixtures = loadFixtures('ok').filter(
        (f) => f.record === writer.record && (f.minVersion ?? 1) <= writer.version,
      );
      // Random values too, so a record without fixtures still proves its resolution.
      const samples = [
        ...okFixtures.map((f) => f.payload),
        writerType.random(),
        writerType.random(),
      ];
      for (const sample of samples) {
        const decoded = readerType.fromBuffer(writerType.toBuffer(sample), resolver) as object;
        expect(readerType.isValid(decoded)).toBe(true);
        const asWritten = writerType.fromBuffer(writerType.toBuffer(sample)) as object;
        expect(decoded).toMatchObject(asWritten);
      }
    },
  );

  it('fills fields a newer version added from their defaults', () => {
    const [v1, v2] = byRecord.get('GrantSubmission') ?? [];
    const writer = avroTypeFor((v1 as SchemaVersionFile).schema);
    const reader = avroTypeFor((v2 as SchemaVersionFile).schema);
    const [fixture] = loadFixtures('ok').filter((f) => f.record === 'GrantSubmission');
    const decoded = reader.fromBuffer(
      writer.toBuffer(fixture?.payload),
      reader.createResolver(writer),
    ) as Record<string, unknown>;
    expect(decoded['program_code']).toBeNull();
    expect(decoded['applicant_ein']).toBeNull();
  });
});

describe('ok fixtures are accepted by every version of their record', () => {
  const cases = loadFixtures('ok').flatMap((f) =>
    versionsFor(f).map((v) => [f.name, v.file, f, v] as const),
  );

  it('cover three funders', () => {
    const funders = new Set(
      loadFixtures('ok')
        .filter((f) => f.record === 'GrantSubmission')
        .map((f) => String(f.payload['grant_id']).split('-')[0]),
    );
    expect(funders.size).toBeGreaterThanOrEqual(3);
  });

  it.each(cases)('%s against %s', (_n, _f, fixture, version) => {
    const type = avroTypeFor(version.schema);
    expect(avroProblems(type, fixture.payload)).toEqual([]);
    const generated = generatedFor(version.file);
    expect(zodProblems(generated.zod, fixture.payload)).toEqual([]);
    // Plain JSON in, the same plain JSON out: the metadata logical type hides the union wrapping.
    const roundTripped = type.fromBuffer(type.toBuffer(fixture.payload)) as object;
    expect(generated.zod.parse(roundTripped)).toEqual(generated.zod.parse(fixture.payload));
    expect(roundTripped).toMatchObject(fixture.payload);
  });
});

describe('generated zod schemas mirror the Avro schemas', () => {
  it.each(schemas.map((s) => [s.file, s] as const))(
    '%s: zod accepts every record avsc decodes',
    (file, version) => {
      const type = avroTypeFor(version.schema);
      const { zod } = generatedFor(file);
      for (let i = 0; i < 25; i += 1) {
        const decoded = type.fromBuffer(type.toBuffer(type.random())) as unknown;
        expect(zodProblems(zod, decoded)).toEqual([]);
      }
    },
  );
});

describe('not-ok fixtures are refused by every version, for the stated reason', () => {
  const cases = loadFixtures('not-ok').flatMap((f) =>
    versionsFor(f).map((v) => [f.name, v.file, f, v] as const),
  );

  it('exist', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s against %s', (_n, _f, fixture, version) => {
    const expected = fixture.expect;
    if (!expected) throw new Error(`${fixture.name} has no expect`);
    const type = avroTypeFor(version.schema);
    const avroPaths = avroProblems(type, fixture.payload);
    expect(avroPaths.length).toBeGreaterThan(0);
    for (const path of avroPaths) expect(under(path, expected.path), path).toBe(true);
    if (expected.zodCode !== 'unrecognized_keys') {
      // avsc's encoder drops undeclared fields silently; only isValid (above) refuses them.
      expect(() => type.toBuffer(fixture.payload)).toThrow();
    }

    const issues = zodProblems(generatedFor(version.file).zod, fixture.payload);
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(under(issue.path, expected.path), issue.path).toBe(true);
    expect(issues[0]?.code).toBe(expected.zodCode);
  });
});

describe('topic declarations', () => {
  it.each(TOPIC_DECLARATIONS.map((t) => [t.name, t] as const))('%s is consistent', (_n, topic) => {
    expect(TOPICS[topic.constant as keyof typeof TOPICS]).toBe(topic.name);
    expect(topic.config['min.insync.replicas']).toBe('2');
    if (topic.valueSchema === null) return;
    expect(existsSync(join(SCHEMAS, topic.valueSchema.file))).toBe(true);
    expect(topic.valueSchema.subject).toBe(`${topic.name}-value`);
    expect(SUBJECTS[topic.constant as keyof typeof SUBJECTS]).toBe(topic.valueSchema.subject);
  });

  it('declares every topic of the product contract', () => {
    expect(TOPIC_DECLARATIONS.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'grants.ingest.v1',
        'grants.validated.v1',
        'grants.normalized.v1',
        'grants.routed.v1',
        'grants.compliance-blocked.v1',
        'grants.status.v1',
        'grants.audit.v1',
        'grants.dlq.v1',
      ]),
    );
  });

  it('keeps the audit topic compacted and forever', () => {
    const audit = TOPIC_DECLARATIONS.find((t) => t.name === TOPICS.AUDIT);
    expect(audit?.config).toMatchObject({
      'cleanup.policy': 'compact',
      'retention.ms': '-1',
      'min.compaction.lag.ms': '86400000',
    });
  });

  it('carries raw bytes on the DLQ', () => {
    const dlq = TOPIC_DECLARATIONS.find((t) => t.name === TOPICS.DLQ);
    expect(dlq?.valueSchema).toBeNull();
    expect(dlq?.partitions).toBe(3);
  });
});
