// Guarantee: attachments are streamed, never buffered whole. Sixty
// applications in flight at once, each with a 200 MB attachment, all pass
// validation with the right size and SHA-256 while the validation service's
// peak resident memory stays under its 300 MB budget.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import {
  testClients,
  testConfig,
  uniqueName,
  writeSparsePdf,
  exactTopicPattern,
  anNsfSubmission,
  awaitValidated,
  createIngestTopic,
  peakRssBytes,
  produceSubmissions,
  scenarioDir,
} from '@grantstream/testing';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';

const APPLICATIONS = 60;
const ATTACHMENT_BYTES = 200_000_000;
/** The validation service's memory budget (its container limit in production). */
const BUDGET_BYTES = 300 * 1024 * 1024;

/**
 * A sparse file: a sound PDF (ingest checks its trailer and cross-reference
 * table) whose middle is zeros the filesystem does not store.
 */
function sparsePdf(path: string): void {
  writeSparsePdf(path, ATTACHMENT_BYTES);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('ingest memory budget', () => {
  let clients: PlatformClients;
  let stages: StageProcess[] = [];
  const dir = scenarioDir('memory');

  beforeAll(async () => {
    clients = await testClients();
  });
  afterAll(async () => {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    await clients.close();
  });

  it('validates 60 applications with 200 MB attachments under 300 MB RSS', async () => {
    const tag = uniqueName('MEM')
      .replace(/[^A-Z0-9]/gi, '')
      .slice(-10)
      .toUpperCase();
    const submissions = Array.from({ length: APPLICATIONS }, (_, i) => {
      const file = join(dir, `narrative-${i}.pdf`);
      sparsePdf(file);
      return anNsfSubmission(`NSF-2026-${String(i + 1).padStart(5, '0')}-${tag}`, [
        {
          uri: `file://${file}`,
          media_type: 'application/pdf',
          size_bytes: ATTACHMENT_BYTES,
          sha256: null,
          filename: `narrative-${i}.pdf`,
        },
      ]);
    });
    const expectedHash = await sha256Of(join(dir, 'narrative-0.pdf'));
    const topic = await createIngestTopic(clients, 'memory');
    const from = await clients.io.endOffsets([TOPICS.VALIDATED]);
    // All sixty are on the topic before the service starts: all in flight at once.
    await produceSubmissions(clients, topic, submissions);
    // Its own group and metrics port: another ingest on the broker neither
    // shares these records nor holds the port.
    const group = uniqueName('grantstream.ingest.memory');
    stages = startStages(['ingest'], {
      logDir: dir,
      env: {
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
        GRANTSTREAM__INGEST__RUNNER__GROUPID: group,
        // Only this scenario's topic: never another scenario's or the main job's records.
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([topic]),
        GRANTSTREAM__INGEST__RUNNER__TRANSACTIONALIDPREFIX: group,
        GRANTSTREAM__INGEST__METRICS__PORT: '9482',
      },
    });
    const pid = stages[0]?.child.pid ?? 0;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssBytes(pid) ?? 0);
    }, 200);
    const validated = await awaitValidated(
      clients,
      from,
      new Set(submissions.map((s) => s.grant_id)),
      540_000,
    );
    clearInterval(sampler);
    peak = Math.max(peak, peakRssBytes(pid) ?? 0);
    console.info(
      `ingest peak RSS ${(peak / 1024 / 1024).toFixed(1)} MB over ${APPLICATIONS} × ${ATTACHMENT_BYTES / 1e6} MB attachments`,
    );

    expect(validated.size).toBe(APPLICATIONS);
    for (const v of validated.values()) {
      expect(v.verified_attachments).toHaveLength(1);
      expect(v.verified_attachments[0]?.size_bytes).toBe(ATTACHMENT_BYTES);
      expect(v.verified_attachments[0]?.sha256).toBe(expectedHash);
      expect(v.verified_attachments[0]?.media_type).toBe('application/pdf');
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(BUDGET_BYTES);
    expect(stages[0]?.child.exitCode).toBeNull();
  }, 600_000);
});
