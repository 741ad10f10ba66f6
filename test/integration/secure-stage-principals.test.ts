// Guarantee: over the secured stack (SASL_SSL with the stack's CA, SCRAM, the
// StandardAuthorizer with ACLs derived from schemas/pipeline.yaml), ingest,
// normalization and routing each run as their own principal and carry every
// application an upstream principal produced to exactly one outcome, each
// with a verified audit trail; and no secret set in the run (every SCRAM
// password, the registry credentials, a funder token) appears in any stage's
// log, any record of any topic (dead letters and audit events included) or
// the run's outcome report.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@grantstream/contracts';
import {
  collectOutcomes,
  startStages,
  stopStages,
  verifyAuditTrails,
  type PipelineStageName,
  type StageProcess,
} from '@grantstream/harness';
import { UPSTREAM_PRINCIPAL, principalOf } from '@grantstream/kafka';
import { anNsfSubmission, produceSubmissions, writePdf } from '@grantstream/testing';
import { allRecordText, startSecureStack, type SecureStack } from '../support/secure-stack';

const APPLICATIONS = 12;
const STAGES: readonly PipelineStageName[] = ['ingest', 'normalization', 'routing'];

describe('stages over SASL_SSL, each as its own principal', () => {
  let stack: SecureStack;
  let stages: StageProcess[] = [];
  const registryPassword = randomBytes(18).toString('base64url');
  const funderToken = randomBytes(18).toString('base64url');

  beforeAll(async () => {
    stack = await startSecureStack('secure-principals');
  }, 300_000);
  afterAll(async () => {
    await stopStages(stages, stack.config.runner.shutdownGraceMs);
    await stack?.stop();
  }, 120_000);

  it(
    'process every application, and leak no secret into logs, records or the report',
    {
      timeout: 360_000,
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gs-secure-principals-'));
      const grantIds = Array.from(
        { length: APPLICATIONS },
        (_, i) => `NSF-2026-${String(90_000 + i).padStart(5, '0')}`,
      );
      const submissions = grantIds.map((id) =>
        anNsfSubmission(id, [writePdf(dir, `narrative-${id}.pdf`, id)]),
      );
      const outcomeTopics = [TOPICS.ROUTED, TOPICS.COMPLIANCE_BLOCKED, TOPICS.DLQ];
      const from = await stack.admin.io.endOffsets(outcomeTopics);
      const auditFrom = await stack.admin.io.endOffsets([TOPICS.AUDIT]);

      // Every stage also carries registry credentials and a funder token: the scan must not find them.
      const secrets = {
        GS_REGISTRY_PASSWORD: registryPassword,
        GRANTSTREAM_FUNDER_TOKEN_NSF: funderToken,
        GRANTSTREAM__REGISTRY__AUTH: JSON.stringify({
          kind: 'basic',
          username: 'grantstream-registry',
          password: { env: 'GS_REGISTRY_PASSWORD' },
        }),
      };
      const logDir = join(dir, 'logs');
      stages = STAGES.flatMap((name) =>
        startStages([name], {
          logDir,
          env: {
            ...stack.envFor(principalOf(name)),
            ...secrets,
            GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
          },
        }),
      );

      const upstream = stack.clientsFor(UPSTREAM_PRINCIPAL);
      await produceSubmissions(upstream, TOPICS.INGEST, submissions);
      await upstream.close();

      const report = await collectOutcomes(stack.admin, from, new Set(grantIds), {
        timeoutMs: stack.config.stack.readyTimeoutMs,
        settleMs: stack.config.runner.maxWaitTimeMs,
        scan: stack.config.audit,
      });
      expect(report.missing).toEqual([]);
      expect(report.duplicates).toEqual([]);
      const destinations = [...report.outcomes.values()].map((o) => o.destination);
      expect(destinations.filter((d) => d === 'dlq')).toEqual([]);

      const { report: audit } = await verifyAuditTrails(
        stack.admin,
        auditFrom,
        new Set(grantIds),
        () => STAGES.length,
        stack.config.stack.readyTimeoutMs,
      );
      expect(audit.ok).toBe(true);

      for (const s of stages) expect(s.child.exitCode, `${s.name} still running`).toBeNull();
      await stopStages(stages, stack.config.runner.shutdownGraceMs);

      const logs = stages.map((s) => readFileSync(s.logFile, 'utf8'));
      for (const [i, log] of logs.entries())
        expect(log, `${stages[i]?.name} logged nothing`).toContain('stage service consuming');
      const records = await allRecordText(stack);
      expect(records).toContain(grantIds[0]);
      const outcomeReport = JSON.stringify({ ...report, outcomes: [...report.outcomes] });
      const everySecret = [...stack.passwords(), registryPassword, funderToken];
      expect(everySecret.length).toBeGreaterThanOrEqual(STAGES.length + 2);
      const haystacks = { logs: logs.join('\n'), records, report: outcomeReport };
      for (const [where, text] of Object.entries(haystacks))
        for (const secret of everySecret)
          expect(text.includes(secret), `a secret in ${where}`).toBe(false);
    },
  );
});
