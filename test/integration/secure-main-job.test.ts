// Guarantee: the whole main job (`npm start -- --secure`) runs over SASL_SSL
// on the secured stack, every stage and grantctl submit as its own derived
// principal: every application of the batch gets a routing outcome, every
// forwarded grant reaches a final status, every audit trail verifies
// (`grantctl audit verify` as the read-only auditor principal exits 0), and
// no secret set in the run (SCRAM passwords, funder tokens) appears in the
// job's report, its output, any service's log or any record of any topic.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MainJobReport } from '@grantstream/harness';
import { AUDITOR_PRINCIPAL } from '@grantstream/kafka';
import { ENTRY, runTs } from '@grantstream/testing';
import { isolatedStackPorts } from '../support/isolated-stacks';
import { allRecordText, startSecureStack, type SecureStack } from '../support/secure-stack';

/** The run's simulator and stages on ports of this scenario's block. */
const { free } = isolatedStackPorts('secure-main-job');
const SIMULATOR_PORT = free;
const METRICS_PORTS = {
  INGEST: free + 1,
  NORMALIZATION: free + 2,
  ROUTING: free + 3,
  SUBMISSION: free + 4,
  STATUS_POLLING: free + 5,
  NOTIFICATION: free + 6,
  CHECKPOINTER: free + 7,
} as const;
const CONSOLE_PORT = free + 8;
const FUNDERS = ['NSF', 'BCF', 'SCDA'] as const;

describe('the main job over SASL_SSL with per-stage principals', () => {
  let stack: SecureStack;

  beforeAll(async () => {
    stack = await startSecureStack('secure-main-job');
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it('decides every application, finishes every forwarded grant, verifies the audit and leaks no secret', async () => {
    const tokens = Object.fromEntries(
      FUNDERS.map((f) => [f, randomBytes(18).toString('base64url')]),
    );
    const simulator = `http://127.0.0.1:${SIMULATOR_PORT}`;
    const env: Record<string, string> = {
      // The job connects as the admin user (topics, follow-up reads); it starts
      // each stage, and grantctl submit, as its own principal (--secure).
      ...stack.envFor(stack.config.stack.kafka.security.adminUser),
      GRANTSTREAM__SIMULATOR__PORT: String(SIMULATOR_PORT),
      GRANTSTREAM__NOTIFICATION__WEBHOOK__URL: `${simulator}/__sim/hooks/compliance-officer`,
    };
    for (const f of FUNDERS) {
      env[`GRANTSTREAM__FUNDERS__${f}__BASE_URL`] = `${simulator}/funders/${f}`;
      env[`GRANTSTREAM__SIMULATOR__FUNDERS__${f}__TOKEN`] = tokens[f] as string;
    }
    for (const [section, port] of Object.entries(METRICS_PORTS))
      env[`GRANTSTREAM__${section}__METRICS__PORT`] = String(port);
    // This stack's own log key and witness copies: never those of config/secure.yaml's stack.
    const logDir = join(stack.config.stack.stateDir, 'checkpointer');
    const keyFile = join(logDir, 'log-key.pem');
    const witnessDir = join(logDir, 'witness');
    Object.assign(env, {
      GRANTSTREAM__CONSOLE__PORT: String(CONSOLE_PORT),
      GRANTSTREAM__CHECKPOINTER__SIGNING_KEY__FILE: keyFile,
      GRANTSTREAM__CHECKPOINTER__WITNESS__DIR: witnessDir,
    });

    const job = await runTs(ENTRY.mainJob, ['--secure', '--json'], {
      env,
      timeoutMs: stack.config.stack.readyTimeoutMs * 2,
    });
    const report = JSON.parse(job.stdout.trim().split('\n').pop() ?? '{}') as MainJobReport;
    expect(job.code, job.stderr.slice(-2000)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.applications).toBeGreaterThan(0);
    expect(report.decided).toBe(report.applications);
    expect(report.missing).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.unfinished).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(report.audit.ok).toBe(true);
    expect(report.audit.grants).toBe(report.applications);
    // The checkpointer, as its own principal, signed a checkpoint over every event of the run.
    expect(report.checkpoint).not.toBeNull();
    expect(report.checkpoint?.runEvents).toBeGreaterThanOrEqual(report.audit.events);

    // The auditor checks the chains and the signed log with this stack's key.
    const verify = await runTs(ENTRY.grantctl, ['audit', 'verify', '--json'], {
      env: {
        ...stack.envFor(AUDITOR_PRINCIPAL),
        GRANTSTREAM__AUDIT__LOG__VERIFIER_KEY_FILES: JSON.stringify([`${keyFile}.pub`]),
        GRANTSTREAM__AUDIT__LOG__WITNESS_DIR: witnessDir,
      },
      timeoutMs: stack.config.stack.readyTimeoutMs,
    });
    expect(verify.code, verify.stdout.slice(-2000) + verify.stderr.slice(-2000)).toBe(0);
    const verified = JSON.parse(verify.stdout) as {
      ok: boolean;
      log: { checked: boolean; ok: boolean; checkpoints: { verified: number } };
    };
    expect(verified.ok).toBe(true);
    expect(verified.log).toMatchObject({ checked: true, ok: true });
    expect(verified.log.checkpoints.verified).toBeGreaterThan(0);

    const runDir = join(stack.config.stack.stateDir, 'runs', report.runTag);
    const logs = readdirSync(runDir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(runDir, f), 'utf8'));
    // The job's own log and one per service (simulator, six stages, checkpointer, console).
    expect(logs.length).toBeGreaterThanOrEqual(Object.keys(METRICS_PORTS).length + 2);
    const records = await allRecordText(stack);
    expect(records).toContain(report.runTag);
    const secrets = [...stack.passwords(), ...Object.values(tokens)];
    const haystacks = {
      logs: logs.join('\n'),
      records,
      report: job.stdout,
      stderr: job.stderr + verify.stdout + verify.stderr,
    };
    for (const [where, text] of Object.entries(haystacks))
      for (const secret of secrets)
        expect(text.includes(secret), `a secret in ${where}`).toBe(false);
  }, 600_000);
});
