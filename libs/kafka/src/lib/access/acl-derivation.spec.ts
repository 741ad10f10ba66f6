import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import {
  EVERY_STAGE_OUTPUTS,
  SERVICE_DECLARATIONS,
  TOPICS,
  TOPIC_DECLARATIONS,
} from '@grantstream/contracts';
import { deriveAcls, describeAcls, topicPrefixOfPattern, type AclRule } from './acl-derivation';
import {
  AUDITOR_PRINCIPAL,
  CONSOLE_PRINCIPAL,
  OPERATOR_PRINCIPAL,
  UPSTREAM_PRINCIPAL,
  pipelinePrincipals,
  principalOf,
} from './pipeline-principals';

const identity = z.object({
  runner: z.object({ groupId: z.string(), transactionalIdPrefix: z.string() }),
});

function defaultPrincipals() {
  const sections = Object.fromEntries(
    SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage').map((s) => [s.configSection, identity]),
  );
  const config = loadConfig({
    schema: z.object({ ...sections, dlq: z.object({ redriveTransactionalId: z.string() }) }),
    files: [DEFAULT_CONFIG_FILE],
    env: {},
  }) as Record<string, { runner: { groupId: string; transactionalIdPrefix: string } }> & {
    dlq: { redriveTransactionalId: string };
  };
  const services = loadConfig({
    schema: z.object({
      checkpointer: z.object({
        leaseGroupId: z.string(),
        offsetsGroupId: z.string(),
        transactionalId: z.string(),
      }),
      console: z.object({
        redrive: z.object({ transactionalId: z.string() }),
        readModel: z.object({ topics: z.record(z.string(), z.string()) }),
      }),
    }),
    files: [DEFAULT_CONFIG_FILE],
    env: {},
  });
  return pipelinePrincipals({
    services: SERVICE_DECLARATIONS,
    everyStageOutputs: EVERY_STAGE_OUTPUTS,
    topics: TOPIC_DECLARATIONS,
    stages: Object.fromEntries(
      SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage').map((s) => [
        s.name,
        (config[s.configSection] as { runner: { groupId: string; transactionalIdPrefix: string } })
          .runner,
      ]),
    ),
    auditTopic: TOPICS.AUDIT,
    deadLetterTopic: TOPICS.DLQ,
    redriveTransactionalId: config.dlq.redriveTransactionalId,
    serviceIdentities: {
      checkpointer: {
        groupPrefixes: [services.checkpointer.leaseGroupId, services.checkpointer.offsetsGroupId],
        transactionalIdPrefixes: [services.checkpointer.transactionalId],
      },
    },
    redriveTools: [
      {
        principal: CONSOLE_PRINCIPAL,
        description: 'the console',
        transactionalId: services.console.redrive.transactionalId,
        reads: Object.values(services.console.readModel.topics),
      },
    ],
  });
}

const writersOf = (rules: readonly AclRule[], topic: string) =>
  rules
    .filter(
      (r) =>
        r.resourceType === 'topic' &&
        r.operation === 'write' &&
        (r.patternType === 'literal' ? r.resourceName === topic : topic.startsWith(r.resourceName)),
    )
    .map((r) => r.principal);

describe('ACLs derived from the pipeline manifest', () => {
  const { principals, policy } = defaultPrincipals();
  const rules = deriveAcls(principals, policy);

  it('give every stage its own principal', () => {
    const stages = SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage').map((s) =>
      principalOf(s.name),
    );
    for (const p of stages) expect(principals.map((x) => x.principal)).toContain(p);
  });

  it('let only the audit writers write the audit topic, and the auditor only read it', () => {
    expect(new Set(writersOf(rules, TOPICS.AUDIT))).toEqual(new Set(policy.auditWriters));
    // The audit writers are the stages and the two redrive tools, nobody else.
    expect(new Set(policy.auditWriters)).toEqual(
      new Set([
        ...SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage').map((s) => principalOf(s.name)),
        OPERATOR_PRINCIPAL,
        CONSOLE_PRINCIPAL,
      ]),
    );
    expect(writersOf(rules, TOPICS.AUDIT)).not.toContain(principalOf('checkpointer'));
    expect(writersOf(rules, TOPICS.AUDIT)).not.toContain(AUDITOR_PRINCIPAL);
    // The audit topic and the signed log over it (audit verify checks both), read only.
    expect(describeAcls(rules, AUDITOR_PRINCIPAL).sort()).toEqual(
      [TOPICS.AUDIT, TOPICS.AUDIT_LOG_ORDER, TOPICS.AUDIT_CHECKPOINTS]
        .flatMap((t) => [`DESCRIBE_CONFIGS topic ${t}`, `READ topic ${t}`])
        .sort(),
    );
  });

  it('let no stage write an ingest topic: only upstream and the redrive tools', () => {
    expect(new Set(writersOf(rules, TOPICS.INGEST))).toEqual(
      new Set([UPSTREAM_PRINCIPAL, OPERATOR_PRINCIPAL, CONSOLE_PRINCIPAL]),
    );
  });

  it('give the checkpointer the audit topic to read, its own topics, groups and transactional id', () => {
    expect(describeAcls(rules, principalOf('checkpointer')).sort()).toEqual(
      [
        `READ topic ${TOPICS.AUDIT}`,
        `DESCRIBE_CONFIGS topic ${TOPICS.AUDIT}`,
        `READ topic ${TOPICS.AUDIT_LOG_ORDER}`,
        `DESCRIBE_CONFIGS topic ${TOPICS.AUDIT_LOG_ORDER}`,
        `WRITE topic ${TOPICS.AUDIT_LOG_ORDER}`,
        `READ topic ${TOPICS.AUDIT_CHECKPOINTS}`,
        `DESCRIBE_CONFIGS topic ${TOPICS.AUDIT_CHECKPOINTS}`,
        `WRITE topic ${TOPICS.AUDIT_CHECKPOINTS}`,
        'READ group grantstream.checkpointer.lease*',
        'READ group grantstream.checkpointer*',
        'WRITE transactionalId grantstream.checkpointer*',
      ].sort(),
    );
  });

  it('let the console read its topics without a group and redrive under its own transactional id', () => {
    const acls = describeAcls(rules, CONSOLE_PRINCIPAL);
    for (const t of [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ])
      expect(acls).toContain(`READ topic ${t}`);
    expect(acls.filter((a) => a.includes(' group '))).toEqual([]);
    expect(acls.filter((a) => a.includes(' transactionalId '))).toEqual([
      'WRITE transactionalId grantstream.console.dlq-redrive*',
    ]);
    // It may write exactly what grantctl's redrive may write.
    const writes = (p: string) =>
      describeAcls(rules, p)
        .filter((a) => a.startsWith('WRITE topic'))
        .sort();
    expect(writes(CONSOLE_PRINCIPAL)).toEqual(writes(OPERATOR_PRINCIPAL));
  });

  it('give routing exactly its inputs, outputs, group and transactional ids', () => {
    expect(describeAcls(rules, principalOf('routing')).sort()).toEqual(
      [
        `READ topic ${TOPICS.NORMALIZED}`,
        `DESCRIBE_CONFIGS topic ${TOPICS.NORMALIZED}`,
        `WRITE topic ${TOPICS.ROUTED}`,
        `WRITE topic ${TOPICS.COMPLIANCE_BLOCKED}`,
        `WRITE topic ${TOPICS.AUDIT}`,
        `WRITE topic ${TOPICS.DLQ}`,
        'READ group grantstream.routing*',
        'WRITE transactionalId grantstream.routing*',
      ].sort(),
    );
  });

  it('grant pattern inputs by prefix and compacted changelogs to the stage restoring them', () => {
    expect(describeAcls(rules, principalOf('ingest'))).toContain('READ topic grants.ingest.*');
    expect(describeAcls(rules, principalOf('submission'))).toContain(
      `READ topic ${TOPICS.SUBMISSION_CONTENT_STATE}`,
    );
  });

  it('refuse a declaration that writes the audit topic from outside the writers', () => {
    const rogue = { ...principals[0]!, principal: 'rogue' };
    expect(() => deriveAcls([...principals, rogue], policy)).toThrow(/only .* may write/);
    const checkpointer = principals.find((p) => p.principal === principalOf('checkpointer'))!;
    const widened = principals.map((p) =>
      p === checkpointer ? { ...p, writes: [...p.writes, TOPICS.AUDIT] } : p,
    );
    expect(() => deriveAcls(widened, policy)).toThrow(/grantstream-checkpointer declares a write/);
  });
});

describe('topicPrefixOfPattern', () => {
  it.each([
    ['^grants\\.ingest\\..+$', 'grants.ingest.'],
    ['^grants\\.submission\\.retry\\..+\\.v1$', 'grants.submission.retry.'],
    ['^grants\\.audits?$', 'grants.audit'],
  ])('%s -> %s', (pattern, prefix) => expect(topicPrefixOfPattern(pattern)).toBe(prefix));

  it('refuses patterns that would grant every topic', () => {
    expect(() => topicPrefixOfPattern('grants')).toThrow(/anchored/);
    expect(() => topicPrefixOfPattern('^.*')).toThrow(/no literal prefix/);
  });
});
