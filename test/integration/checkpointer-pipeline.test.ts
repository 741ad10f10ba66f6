// Guarantee: the audit events the real stages write are logged, signed and
// provable end to end. Ingest, normalization and routing (their own ingest
// topic and run groups) write their audit events to grants.audit.v1; a
// checkpointer with a log of its own (order and checkpoint topics, groups,
// transactional id, key file, witness directory) appends every one of them
// and signs a checkpoint covering them; `grantctl audit verify`, given only
// the key's .pub file through audit.log.verifierKeyFiles and the witness
// directory, checks the Merkle log (no "NOT checked") and exits 0 with no
// finding; `grantctl audit prove --grant` writes proofs of a grant's events
// that the standalone verifier accepts offline, and refuses once one byte of
// a proof is changed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey } from '@grantstream/audit';
import { TOPICS } from '@grantstream/contracts';
import { runScopedGroups } from '@grantstream/harness';
import {
  ENTRY,
  Scenario,
  WORKSPACE_ROOT,
  anNsfSubmission,
  collectAudit,
  createIngestTopic,
  exactTopicPattern,
  produceSubmissions,
  runTs,
  scenarioDir,
  writePdf,
} from '@grantstream/testing';
import {
  checkpointerEnv,
  createLogScope,
  readCheckpoints,
  readOrderBatches,
  spawnCheckpointer,
  type CheckpointerProcess,
  type CheckpointerScope,
} from '../support/checkpointer';

const GRANTS = 4;
/** ingest, normalization and routing each audit their decision. */
const EVENTS_PER_GRANT = 3;

interface VerifyJson {
  ok: boolean;
  findings: unknown[];
  log: { checked: boolean; reason?: string; findings?: unknown[] };
}

const offline = (file: string) =>
  spawnSync(
    process.execPath,
    [join(WORKSPACE_ROOT, 'tools/audit-proof-verifier/verify.mjs'), file],
    {
      encoding: 'utf8',
    },
  );

describe('the checkpointer over the pipeline’s audit events', () => {
  let s: Scenario;
  let scope: CheckpointerScope;
  let checkpointer: CheckpointerProcess | undefined;
  const grants: string[] = [];
  /** The scope's log and key, as an auditor configures them: a key file, no key in YAML. */
  const auditorEnv = () => ({
    GRANTSTREAM__AUDIT__LOG__VERIFIER_KEY_FILES: JSON.stringify([`${scope.keyFile}.pub`]),
    GRANTSTREAM__AUDIT__LOG__WITNESS_DIR: scope.witnessDir,
  });
  const logArgs = () => ['--order-topic', scope.order, '--checkpoint-topic', scope.checkpoints];

  beforeAll(async () => {
    s = await Scenario.open('checkpointer-pipeline');
    const dir = scenarioDir('checkpointer-pipeline');
    const ingestTopic = await createIngestTopic(s.clients, 'checkpointer-pipeline', 3);
    const groups = await runScopedGroups(s.clients, s.scope, [
      'ingest',
      'normalization',
      'routing',
    ]);
    await s.startStages(['ingest', 'normalization', 'routing'], {
      env: {
        ...groups,
        GRANTSTREAM__INGEST__TOPICPATTERN: exactTopicPattern([ingestTopic]),
        GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
      },
    });
    const tag = s.scope
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(-8)
      .toUpperCase();
    for (let i = 0; i < GRANTS; i += 1) grants.push(`NSF-2026-${String(90_000 + i)}-${tag}`);
    const from = await s.clients.io.endOffsets([TOPICS.AUDIT]);
    await produceSubmissions(
      s.clients,
      ingestTopic,
      grants.map((id) => anNsfSubmission(id, [writePdf(dir, `${id}.pdf`, `narrative ${id}`)])),
    );
    const events = await collectAudit(
      s.clients,
      from,
      new Set(grants),
      (seen) => seen.length >= GRANTS * EVENTS_PER_GRANT,
      s.limits.timeoutMs,
    );
    expect(events.length).toBeGreaterThanOrEqual(GRANTS * EVENTS_PER_GRANT);

    // The log covers the whole audit topic from offset 0, the run's events included.
    scope = await createLogScope(s.clients, 'pipeline', TOPICS.AUDIT);
    checkpointer = spawnCheckpointer(
      checkpointerEnv(scope, {
        GRANTSTREAM__CHECKPOINTER__EVERY_MS: '500',
        GRANTSTREAM__CHECKPOINTER__IDLE_MS: '100',
      }),
    );
    await checkpointer.waitFor((l) => l['msg'] === 'checkpointer resumed the log', 60_000);
    const verifierKey = readFileSync(`${scope.keyFile}.pub`, 'utf8').trim();
    const parsed = parseVerifierKey(verifierKey);
    if (!parsed.ok) throw new Error(`${scope.keyFile}.pub: ${parsed.detail}`);
    const ourKeys = new Set(events.map((e) => `${e.value.grant_id}:${e.value.event_id}`));
    const origin = s.config.audit.log.origin;
    await s.waitUntil('a checkpoint covering every audit event of the scenario', async () => {
      const batches = await readOrderBatches(s.clients, scope.order, 1000);
      const indices = batches.flatMap((b) =>
        b.entries.flatMap((e, i) => (ourKeys.has(e.key) ? [b.firstIndex + i] : [])),
      );
      if (indices.length < ourKeys.size) return false;
      const checkpoints = await readCheckpoints(
        s.clients,
        scope.checkpoints,
        parsed.verifier,
        origin,
      );
      const latest = checkpoints.at(-1)?.checkpoint.size ?? 0;
      return latest > Math.max(...indices);
    });
  }, 600_000);

  afterAll(async () => {
    if (checkpointer && checkpointer.child.exitCode === null) {
      checkpointer.child.kill('SIGTERM');
      await checkpointer.exited;
    }
    await s.close();
  });

  it('verify checks the signed log with the key file and finds nothing', async () => {
    const r = await runTs(ENTRY.grantctl, ['audit', 'verify', '--json', ...logArgs()], {
      env: auditorEnv(),
      timeoutMs: s.limits.timeoutMs,
    });
    const report = JSON.parse(r.stdout) as VerifyJson;
    expect(report.log.checked, report.log.reason).toBe(true);
    expect(report.log.findings).toEqual([]);
    expect(report.findings).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(scope.witnessDir).length).toBeGreaterThan(0);

    const text = await runTs(ENTRY.grantctl, ['audit', 'verify', ...logArgs()], {
      env: auditorEnv(),
      timeoutMs: s.limits.timeoutMs,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toContain('NOT checked');
  });

  it('proves a grant’s events offline; one byte changed in a proof fails it', async () => {
    const grant = grants[0] ?? '';
    const out = mkdtempSync(join(tmpdir(), 'pipeline-proofs-'));
    const r = await runTs(
      ENTRY.grantctl,
      ['audit', 'prove', '--grant', grant, '--out', out, ...logArgs()],
      { env: auditorEnv(), timeoutMs: s.limits.timeoutMs },
    );
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out).filter((f) => f.endsWith('.proof.json'));
    expect(files.length).toBeGreaterThanOrEqual(EVENTS_PER_GRANT);
    for (const file of files) {
      const path = join(out, file);
      const ok = offline(path);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^verified: leaf \d+ is in /);
    }
    // One byte of the first proof's inclusion path (or leaf, for a one-leaf path) flipped.
    const first = join(out, files[0] ?? '');
    const proof = JSON.parse(readFileSync(first, 'utf8')) as {
      leaf: string;
      inclusionPath: string[];
    };
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      return bytes.toString('base64');
    };
    const tampered =
      proof.inclusionPath.length > 0
        ? {
            ...proof,
            inclusionPath: [flip(proof.inclusionPath[0] ?? ''), ...proof.inclusionPath.slice(1)],
          }
        : { ...proof, leaf: flip(proof.leaf) };
    const bad = `${first}.tampered`;
    writeFileSync(bad, JSON.stringify(tampered));
    const refused = offline(bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^not verified: /);
  });
});
