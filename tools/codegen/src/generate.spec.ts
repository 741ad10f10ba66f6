import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { GENERATED_HEADER, generate } from './generate';
import { listSchemaFiles } from './schema-files';

const ROOT = join(__dirname, '../../..');
const SCHEMAS = join(ROOT, 'schemas');
const GENERATED = join(ROOT, 'libs/contracts/src/generated');

/** A scratch copy of schemas/ to break on purpose. */
function scratchSchemas(): string {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-'));
  cpSync(SCHEMAS, dir, { recursive: true });
  return dir;
}

describe('generated contracts (CI freshness check)', () => {
  const files = generate(SCHEMAS);

  it.each([...files.keys()])('libs/contracts/src/generated/%s is up to date', (name) => {
    expect(readFileSync(join(GENERATED, name), 'utf8'), 'run `npm run codegen`').toBe(
      files.get(name),
    );
  });

  it('leaves no file in the generated directory that codegen does not write', () => {
    expect(readdirSync(GENERATED).sort()).toEqual([...files.keys()].sort());
  });

  it('is deterministic and marks every file as generated', () => {
    expect(generate(SCHEMAS)).toEqual(files);
    for (const text of files.values()) expect(text.startsWith(`${GENERATED_HEADER}\n`)).toBe(true);
  });

  it.each([...files.keys()])('%s is already Prettier-formatted', async (name) => {
    // The generated directory is in .prettierignore so `prettier --write .` cannot
    // fight codegen; this keeps the output identical to what Prettier would write.
    const options = await prettier.resolveConfig(join(GENERATED, name));
    const text = files.get(name) ?? '';
    expect(await prettier.format(text, { ...options, filepath: join(GENERATED, name) })).toBe(text);
  });
});

describe('generate', () => {
  const files = generate(SCHEMAS);
  const records = files.get('records.ts') ?? '';
  const topics = files.get('topics.ts') ?? '';

  it('emits an interface and a zod schema for every version of every record', () => {
    for (const file of listSchemaFiles(SCHEMAS)) {
      const name = `${file.record}V${file.version}`;
      expect(records).toContain(`export interface ${name} {`);
      expect(records).toContain(`export const ${name}Schema = z.strictObject({`);
      expect(files.get('avro-schemas.ts')).toContain(`export const ${name}Avro: schema.RecordType`);
    }
  });

  it('shares one type between identical embedded definitions', () => {
    expect(records.match(/export interface GrantSubmissionV1 \{/g)).toHaveLength(1);
    expect(records.match(/export interface AttachmentRefV1 \{/g)).toHaveLength(1);
    expect(records).toContain('  submission: GrantSubmissionV1;');
  });

  it('maps the metadata logical map to plain values', () => {
    expect(records).toContain('  metadata: Record<string, MetadataValue>;');
    expect(records).toContain('  metadata: MetadataMapSchema,');
  });

  it('points each topic at the schema version topics.yaml names', () => {
    expect(topics).toContain("  INGEST: 'grants.ingest.v1',");
    expect(topics).toContain("  INGEST: 'grants.ingest.v1-value',");
    expect(topics).toMatch(
      /name: TOPICS\.INGEST,[\s\S]*?file: 'ingest\/GrantSubmission\.v2\.avsc'/,
    );
    expect(topics).toContain("  'grants.dlq.v1': Buffer;");
  });

  it('refuses a field without a doc', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'ingest/GrantSubmission.v1.avsc');
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { fields: { doc?: string }[] };
    delete doc.fields[1]?.doc;
    writeFileSync(path, JSON.stringify(doc));
    expect(() => generate(dir)).toThrow(/GrantSubmission\.funder_portal has no doc/);
  });

  it('refuses a topic whose value schema does not exist', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'topics.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('ingest/GrantSubmission.v2.avsc', 'ingest/Nope.v1.avsc'),
    );
    expect(() => generate(dir)).toThrow(/grants\.ingest\.v1 names ingest\/Nope\.v1\.avsc/);
  });

  it('refuses a schema whose name or namespace disagrees with its path', () => {
    const dir = scratchSchemas();
    mkdirSync(join(dir, 'extra'));
    writeFileSync(
      join(dir, 'extra/Thing.v1.avsc'),
      JSON.stringify({
        type: 'record',
        name: 'Thing',
        namespace: 'org.grantstream.other',
        fields: [{ name: 'a', type: 'string', doc: 'a' }],
      }),
    );
    expect(() => generate(dir)).toThrow(/namespace must be org\.grantstream\.extra/);
  });

  it('refuses two different definitions that would share a name', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'validation/ValidatedGrant.v1.avsc');
    // Change the embedded submission without giving it a new version.
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('"name": "funder_portal"', '"name": "portal"'),
    );
    expect(() => generate(dir)).toThrow(/would both be named GrantSubmissionV1/);
  });

  it('refuses a pipeline input that topics.yaml does not declare', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'pipeline.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(
        '      - topic: grants.validated.v1\n    outputs',
        '      - topic: grants.validated.v9\n    outputs',
      ),
    );
    expect(() => generate(dir)).toThrow(/normalization names grants\.validated\.v9/);
  });

  it('refuses a retry tier that no stage owns', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'pipeline.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('        - grants.submission.retry.1s.v1\n', ''),
    );
    expect(() => generate(dir)).toThrow(/retry\.1s\.v1 has a retryDelayMs but is no stage's/);
  });

  it('refuses two services on one port', () => {
    const dir = scratchSchemas();
    const path = join(dir, 'pipeline.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('port: 9465', 'port: 9464'));
    expect(() => generate(dir)).toThrow(/two services share the port 9464/);
  });

  it('fills in entry, env section, port setting and probe of each service', () => {
    const pipeline = files.get('pipeline.ts') ?? '';
    expect(pipeline).toContain("entry: 'services/status-polling/src/main.ts',");
    expect(pipeline).toContain("envSection: 'STATUS_POLLING',");
    expect(pipeline).toContain("portSetting: 'statusPolling.metrics.port',");
    expect(pipeline).toContain("portSetting: 'simulator.port',");
  });
});
