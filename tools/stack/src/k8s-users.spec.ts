import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadGrantstreamConfig } from '@grantstream/config';
import { SERVICE_DECLARATIONS, TOPICS } from '@grantstream/contracts';
import {
  AUDITOR_PRINCIPAL,
  CONSOLE_PRINCIPAL,
  OPERATOR_PRINCIPAL,
  principalOf,
} from '@grantstream/kafka';
import { K8S_GENERATED_FILES } from './k8s-generated';
import { stackAccess } from './secure-files';

interface KafkaUser {
  kind: string;
  metadata: { name: string };
  spec: {
    authentication: { type: string };
    authorization: {
      acls: {
        resource: { type: string; name: string; patternType: string };
        operations: string[];
      }[];
    };
  };
}

const root = resolve(__dirname, '../../..');
const users = parseAllDocuments(readFileSync(join(root, K8S_GENERATED_FILES.users), 'utf8'))
  .map((d) => d.toJS() as KafkaUser | null)
  .filter((u): u is KafkaUser => u?.kind === 'KafkaUser');
const access = stackAccess(loadGrantstreamConfig({}), {});

describe('the Strimzi KafkaUsers of k8s/base', () => {
  it('are exactly the derived principals, each with SCRAM-SHA-512', () => {
    expect(users.map((u) => u.metadata.name).sort()).toEqual(
      access.principals.map((p) => p.principal).sort(),
    );
    for (const u of users) expect(u.spec.authentication.type).toBe('scram-sha-512');
    for (const s of SERVICE_DECLARATIONS.filter((d) => d.kind === 'stage'))
      expect(users.map((u) => u.metadata.name)).toContain(principalOf(s.name));
  });

  it('carry the derived ACLs, rule for rule', () => {
    for (const u of users) {
      const rendered = u.spec.authorization.acls
        .map(
          (a) =>
            `${a.resource.type} ${a.resource.patternType} ${a.resource.name} ${a.operations[0]}`,
        )
        .sort();
      const derived = access.rules
        .filter((r) => r.principal === u.metadata.name)
        .map(
          (r) =>
            `${r.resourceType} ${r.patternType} ${r.resourceName} ${r.resourceType === 'group' || r.operation === 'read' ? 'Read' : r.operation === 'write' ? 'Write' : 'DescribeConfigs'}`,
        )
        .sort();
      expect(rendered, u.metadata.name).toEqual(derived);
    }
  });

  it('let only stages and the redrive tools write the audit topic; the auditor only reads it', () => {
    const writers = users
      .filter((u) =>
        u.spec.authorization.acls.some(
          (a) => a.resource.name === TOPICS.AUDIT && a.operations.includes('Write'),
        ),
      )
      .map((u) => u.metadata.name);
    expect(new Set(writers)).toEqual(
      new Set([
        ...SERVICE_DECLARATIONS.filter((d) => d.kind === 'stage').map((d) => principalOf(d.name)),
        OPERATOR_PRINCIPAL,
        CONSOLE_PRINCIPAL,
      ]),
    );
    expect(writers).not.toContain(principalOf('checkpointer'));
    const auditor = users.find((u) => u.metadata.name === AUDITOR_PRINCIPAL);
    expect(new Set(auditor?.spec.authorization.acls.flatMap((a) => a.operations))).toEqual(
      new Set(['Describe', 'DescribeConfigs', 'Read']),
    );
    for (const a of auditor?.spec.authorization.acls ?? [])
      expect([TOPICS.AUDIT, TOPICS.AUDIT_LOG_ORDER, TOPICS.AUDIT_CHECKPOINTS]).toContain(
        a.resource.name,
      );
  });
});
