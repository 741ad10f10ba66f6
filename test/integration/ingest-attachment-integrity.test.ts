// Guarantee: ingest judges an attachment's structure by its type, not only its
// first bytes. A truncated PDF, an encrypted PDF, a PDF that runs JavaScript
// on opening, a workbook holding `../../evil.txt`, a workbook-looking ZIP of
// 20,000 entries and a document without its end-of-central-directory record
// are each dead-lettered ATTACHMENT_INVALID with a code naming the defect,
// never validated; a sound PDF, workbook and document pass, and a scripted PDF
// passes for a funder whose rule pack ranks active content a warning, flagged
// on its VALIDATED audit event.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditEventV1Avro,
  DLQ_HEADERS,
  TOPICS,
  type AuditEventV1,
  type GrantSubmissionV2,
} from '@grantstream/contracts';
import { sha256Hex } from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import {
  docxWithoutEocd,
  encryptedPdf,
  goodDocx,
  goodPdf,
  goodXlsx,
  javascriptPdf,
  manyEntriesXlsx,
  testClients,
  testConfig,
  traversalXlsx,
  truncatedPdf,
  uniqueName,
  exactTopicPattern,
  anNsfSubmission,
  createIngestTopic,
  produceSubmissions,
  scenarioDir,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const PDF = 'application/pdf';

interface Case {
  name: string;
  /** The funder whose pack ranks the findings (SCDA unless said). */
  funder?: 'SCDA' | 'BCF';
  filename: string;
  mediaType: string;
  bytes: () => Promise<Buffer> | Buffer;
  /** The dead letter's code, or null for an attachment that must pass. */
  code: string | null;
}

const CASES: readonly Case[] = [
  {
    name: 'truncated',
    filename: 'narrative.pdf',
    mediaType: PDF,
    bytes: () => truncatedPdf(),
    code: 'PDF_TRUNCATED',
  },
  {
    name: 'encrypted',
    filename: 'narrative.pdf',
    mediaType: PDF,
    bytes: () => encryptedPdf(),
    code: 'PDF_ENCRYPTED',
  },
  {
    name: 'javascript',
    filename: 'narrative.pdf',
    mediaType: PDF,
    bytes: () => javascriptPdf(),
    code: 'PDF_ACTIVE_CONTENT',
  },
  {
    name: 'traversal',
    filename: 'budget.xlsx',
    mediaType: XLSX,
    bytes: () => traversalXlsx(),
    code: 'ZIP_PATH_TRAVERSAL',
  },
  {
    name: 'many-entries',
    filename: 'budget.xlsx',
    mediaType: XLSX,
    bytes: () => manyEntriesXlsx(20_000),
    code: 'ZIP_TOO_MANY_ENTRIES',
  },
  {
    name: 'no-eocd',
    filename: 'narrative.docx',
    mediaType: DOCX,
    bytes: () => docxWithoutEocd(),
    code: 'ZIP_EOCD_MISSING',
  },
  {
    name: 'good-pdf',
    filename: 'narrative.pdf',
    mediaType: PDF,
    bytes: () => goodPdf({ objectStreams: true }),
    code: null,
  },
  {
    name: 'good-xlsx',
    filename: 'budget.xlsx',
    mediaType: XLSX,
    bytes: () => goodXlsx(),
    code: null,
  },
  // BCF's pack ranks active content a WARNING: it passes, flagged on its VALIDATED event.
  {
    name: 'javascript-bcf',
    funder: 'BCF',
    filename: 'narrative.pdf',
    mediaType: PDF,
    bytes: () => javascriptPdf(),
    code: null,
  },
  {
    name: 'good-docx',
    filename: 'narrative.docx',
    mediaType: DOCX,
    bytes: () => goodDocx(),
    code: null,
  },
];

interface Outcome {
  validated: boolean;
  deadLetter?: { category: string; code: string; reason: string };
}

describe('ingest attachment integrity', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('integrity');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    await clients.close();
  });

  it('dead-letters each structural defect with its code and validates sound files', async () => {
    const tag = uniqueName('I')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-10)
      .toUpperCase();
    const byGrant = new Map<string, Case>();
    const submissions: GrantSubmissionV2[] = [];
    for (const [i, c] of CASES.entries()) {
      const bytes = await c.bytes();
      const path = join(dir, `${c.name}-${c.filename}`);
      writeFileSync(path, bytes);
      // SCDA accepts PDF, XLSX and DOCX attachments; BCF PDF and XLSX.
      const funder = c.funder ?? 'SCDA';
      const grantId = `${funder}-2026-${String(i + 1).padStart(5, '0')}-${tag}`;
      byGrant.set(grantId, c);
      submissions.push({
        ...anNsfSubmission(grantId, [
          {
            uri: `file://${path}`,
            media_type: c.mediaType,
            size_bytes: bytes.length,
            sha256: sha256Hex(bytes),
            filename: c.filename,
          },
        ]),
        funder_portal: funder === 'BCF' ? 'bcf-portal' : 'scda-egrants',
      });
    }

    const topic = await createIngestTopic(clients, 'integrity');
    const from = await clients.io.endOffsets([TOPICS.VALIDATED, TOPICS.DLQ]);
    const auditFrom = await clients.io.endOffsets([TOPICS.AUDIT]);
    const group = uniqueName('grantstream.ingest.integrity');
    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
        GRANTSTREAM__INGEST__RUNNER__GROUPID: group,
        // Only this scenario's topic: never another scenario's or the main job's records.
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([topic]),
        GRANTSTREAM__INGEST__RUNNER__TRANSACTIONALIDPREFIX: group,
        GRANTSTREAM__INGEST__METRICS__PORT: '9481',
      },
    });
    await produceSubmissions(clients, topic, submissions);

    // Another ingest process on the broker may read this topic too; it cannot
    // open these files (they are outside its roots), so its dead letters say
    // ATTACHMENT_PATH_OUTSIDE_ROOT and are not this process's outcome.
    const outcomes = new Map<string, Outcome>();
    await clients.io.follow(
      from,
      (m) => {
        const id = m.key?.toString() ?? '';
        if (!byGrant.has(id) || outcomes.has(id)) return outcomes.size >= byGrant.size;
        if (m.topic === TOPICS.VALIDATED) outcomes.set(id, { validated: true });
        if (m.topic === TOPICS.DLQ) {
          const header = (name: string) => m.headers[name]?.toString() ?? '';
          const code = header(DLQ_HEADERS.ERROR_CODE);
          if (header(DLQ_HEADERS.SOURCE_TOPIC) === topic && code !== 'ATTACHMENT_PATH_OUTSIDE_ROOT')
            outcomes.set(id, {
              validated: false,
              deadLetter: {
                category: header(DLQ_HEADERS.ERROR_CATEGORY),
                code,
                reason: header(DLQ_HEADERS.REASON),
              },
            });
        }
        return outcomes.size >= byGrant.size;
      },
      150_000,
    );

    for (const [id, c] of byGrant) {
      const o = outcomes.get(id);
      console.info(
        `${c.name}: ${o?.validated ? 'validated' : o?.deadLetter ? `dead-lettered ${o.deadLetter.category} ${o.deadLetter.code}: ${o.deadLetter.reason}` : 'no outcome'}`,
      );
    }
    const seen = [...byGrant].map(([id, c]) => ({
      case: c.name,
      validated: outcomes.get(id)?.validated ?? null,
      category: outcomes.get(id)?.deadLetter?.category ?? null,
      code: outcomes.get(id)?.deadLetter?.code ?? null,
    }));
    const wanted = CASES.map((c) => ({
      case: c.name,
      validated: c.code === null,
      category: c.code === null ? null : 'ATTACHMENT_INVALID',
      code: c.code,
    }));
    expect(seen).toEqual(wanted);

    // The flag that let the BCF attachment pass is on its VALIDATED audit event.
    const flagged = [...byGrant].find(([, c]) => c.name === 'javascript-bcf')?.[0] ?? '';
    let validatedEvent: AuditEventV1 | undefined;
    const decoding: Promise<void>[] = [];
    await clients.io.follow(
      auditFrom,
      (m) => {
        if (m.value !== null) {
          decoding.push(
            clients.serde.decodeAs<AuditEventV1>(m.value, AuditEventV1Avro).then(({ value }) => {
              if (value.grant_id === flagged && value.action === 'VALIDATED')
                validatedEvent = value;
            }),
          );
        }
        return validatedEvent !== undefined;
      },
      30_000,
    );
    await Promise.all(decoding);
    expect(validatedEvent?.details.attachment_flags).toBe(
      'attachments[0]:PDF_ACTIVE_CONTENT:WARNING',
    );
    expect(stages[0]?.child.exitCode).toBeNull();
  }, 240_000);
});
