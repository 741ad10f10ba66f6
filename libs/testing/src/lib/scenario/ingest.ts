import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GrantSubmissionV2Avro,
  TOPICS,
  ValidatedGrantV2Avro,
  type GrantSubmissionV2,
  type ValidatedGrantV2,
} from '@grantstream/contracts';
import { sha256Hex } from '@grantstream/audit';
import type { StageProcess } from '@grantstream/harness';
import type { PlatformClients, TopicPositions } from '@grantstream/kafka';
import { testConfig, uniqueName } from '../environment';

/** A fresh directory for a scenario's attachments, logs and stage roots. */
export function scenarioDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `grantstream-${name}-`));
}

/** A fresh topic matching grants.ingest.* with the GrantSubmission schema registered. */
export async function createIngestTopic(
  clients: PlatformClients,
  name: string,
  partitions = 3,
): Promise<string> {
  return createNamedIngestTopic(clients, uniqueName(`grants.ingest.${name}`), partitions);
}

/**
 * Creates `topic` (one of a scenario's ingest topics, see scenarioIngest in
 * @grantstream/testing) with the GrantSubmission schema registered.
 */
export async function createNamedIngestTopic(
  clients: PlatformClients,
  topic: string,
  partitions = 3,
): Promise<string> {
  await clients.admin.createTopics([
    { name: topic, partitions, replicationFactor: 1, config: {}, valueSchema: null },
  ]);
  await clients.serde.register(topic, GrantSubmissionV2Avro, testConfig().topics.compatibility);
  return topic;
}

/** Produces submissions as Avro, keyed by grant id. */
export async function produceSubmissions(
  clients: PlatformClients,
  topic: string,
  submissions: readonly GrantSubmissionV2[],
): Promise<void> {
  const values = await Promise.all(submissions.map((s) => clients.serde.encode(topic, s)));
  await clients.io.produce(
    topic,
    submissions.map((s, i) => ({ key: s.grant_id, value: values[i] ?? null })),
  );
}

/**
 * Writes a small structurally sound PDF (header, catalog, empty page tree,
 * cross-reference table, trailer, startxref, %%EOF; `body` as a comment, so
 * different bodies give different bytes) and returns its reference fields.
 */
export function writePdf(dir: string, filename: string, body: string) {
  let text = `%PDF-1.7\n% ${body.replace(/[\r\n]/g, ' ')}\n`;
  const offsets: number[] = [];
  for (const object of [
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
  ]) {
    offsets.push(Buffer.byteLength(text, 'latin1'));
    text += object;
  }
  const xref = Buffer.byteLength(text, 'latin1');
  text +=
    `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const bytes = Buffer.from(text, 'latin1');
  const path = join(dir, filename);
  writeFileSync(path, bytes);
  return {
    uri: `file://${path}`,
    media_type: 'application/pdf',
    size_bytes: bytes.length,
    sha256: sha256Hex(bytes),
    filename,
  };
}

/** A submission to NSF that passes ingest (grant id, deadline, metadata, attachment rules). */
export function anNsfSubmission(
  grantId: string,
  attachments: GrantSubmissionV2['attachments'],
  now = Date.now(),
): GrantSubmissionV2 {
  return {
    grant_id: grantId,
    funder_portal: 'grants-gov',
    submission_deadline: now + 60 * 86_400_000,
    metadata: {
      project_title: 'Watershed monitoring with low-cost sensors',
      project_summary: 'A three-year study of sensor networks in rural watersheds.',
      requested_amount: '$350,000.00',
      project_start_date: '2027-07-01',
      duration_months: 36,
      organization_name: 'Riverbend Research Institute',
      applicant_ein: '12-3456789',
      uei: 'ABCDEF123456',
      pi_name: 'Dana Okafor',
      pi_email: 'dana.okafor@riverbend.example.org',
      program_code: 'NSF 24-583',
      assistance_listing: '47.076',
    },
    attachments,
    audit_timestamp: now,
    program_code: 'NSF 24-583',
    applicant_ein: '12-3456789',
  };
}

/**
 * Follows grants.validated.v1 from `from` until every grant in `grantIds`
 * has been validated, returning the decoded records by grant id.
 */
export async function awaitValidated(
  clients: PlatformClients,
  from: TopicPositions,
  grantIds: ReadonlySet<string>,
  timeoutMs: number,
): Promise<Map<string, ValidatedGrantV2>> {
  const raw = new Map<string, Buffer | null>();
  await clients.io.follow(
    from,
    (m) => {
      const id = m.key?.toString() ?? '';
      if (m.topic === TOPICS.VALIDATED && grantIds.has(id) && !raw.has(id)) raw.set(id, m.value);
      return raw.size >= grantIds.size;
    },
    timeoutMs,
  );
  const out = new Map<string, ValidatedGrantV2>();
  for (const [id, value] of raw)
    out.set(
      id,
      (await clients.serde.decodeAs<ValidatedGrantV2>(value, ValidatedGrantV2Avro)).value,
    );
  return out;
}

/** Waits until a stage's log has a line matching `pattern`; fails at once if the stage exits. */
export async function waitForLog(
  stage: Pick<StageProcess, 'logFile' | 'child'>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(stage.logFile, 'utf8');
    } catch {
      // not created yet
    }
    if (pattern.test(text)) return;
    const exited = stage.child.exitCode !== null || stage.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      throw new Error(
        `${exited ? `stage exited (${stage.child.exitCode ?? stage.child.signalCode})` : `no ${String(pattern)} after ${timeoutMs} ms`}; log ${stage.logFile}:\n${text.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Peak resident set size of a process in bytes (Linux VmHWM), or null once it has exited. */
export function peakRssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
