/**
 * Least privilege, derived: each principal's ACLs come from what it declares
 * it reads, writes, its consumer groups and transactional ids, never from a
 * hand-kept list. Pure: the same declarations give the same ACLs for the
 * local secured stack (applied at start), the Strimzi KafkaUsers (k8s) and
 * the table in docs/operations.md.
 */

/** What one principal (one Kafka user) declares it touches. */
export interface PrincipalAccess {
  /** The Kafka user name; the ACL principal is `User:<name>`. */
  readonly principal: string;
  /** Who uses it, in one line (for the generated table). */
  readonly description: string;
  /** Topics read by name. */
  readonly reads: readonly string[];
  /** Topic patterns read (regular expression sources, e.g. `^grants\.ingest\..+$`). */
  readonly readPatterns: readonly string[];
  /** Topics written. */
  readonly writes: readonly string[];
  /** Topic patterns written (e.g. a tool that produces to any ingest topic). */
  readonly writePatterns: readonly string[];
  /**
   * Consumer-group prefixes: the configured group, which also covers each
   * run's scoped groups (`<group>.<scope>`) and replicas sharing the group.
   */
  readonly groupPrefixes: readonly string[];
  /** Transactional id prefixes (the runner's ids are `<prefix>.<instance>.<n>`, one per member). */
  readonly transactionalIdPrefixes: readonly string[];
}

/** Kafka resource kinds an ACL can name. */
export type AclResourceType = 'topic' | 'group' | 'transactionalId';

/** LITERAL: exactly the name; PREFIXED: every name starting with it. */
export type AclPatternType = 'literal' | 'prefixed';

/** Operations the derivation grants (read and write imply DESCRIBE on their resource). */
export type AclOperation = 'read' | 'write' | 'describe' | 'describeConfigs';

/** One allow rule, in the client-neutral form both the stack and the k8s renderer map. */
export interface AclRule {
  readonly principal: string;
  readonly resourceType: AclResourceType;
  readonly patternType: AclPatternType;
  readonly resourceName: string;
  readonly operation: AclOperation;
}

/** Constraints the derived ACLs must keep, whatever the declarations say. */
export interface AccessPolicy {
  /** The audit topic: only `auditWriters` may write it. */
  readonly auditTopic: string;
  /** Principals allowed to write the audit topic (the stages and the redrive tool). */
  readonly auditWriters: readonly string[];
}

const REGEX_META = new Set(['.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$']);

/**
 * The literal prefix every topic a pattern matches starts with:
 * `^grants\.ingest\..+$` -> `grants.ingest.`. Kafka ACLs match names
 * literally or by prefix, not by regular expression, so a pattern is granted
 * as its prefix (a superset of what it matches). A pattern without a
 * leading `^` or with no literal prefix would grant every topic: refused.
 */
export function topicPrefixOfPattern(pattern: string): string {
  if (!pattern.startsWith('^'))
    throw new Error(`pattern ${pattern} is not anchored with ^: no topic prefix to grant`);
  let prefix = '';
  for (let i = 1; i < pattern.length; i += 1) {
    const c = pattern.charAt(i);
    if (c === '\\') {
      const next = pattern.charAt(i + 1);
      if (/[A-Za-z0-9]/.test(next)) break; // \d, \w ...: a class, not a literal
      prefix += next;
      i += 1;
      continue;
    }
    if (REGEX_META.has(c)) {
      // A quantifier makes the character before it optional or repeated: not part of the prefix.
      if ((c === '*' || c === '?' || c === '{') && prefix.length > 0) prefix = prefix.slice(0, -1);
      break;
    }
    prefix += c;
  }
  if (prefix === '') throw new Error(`pattern ${pattern} has no literal prefix to grant`);
  return prefix;
}

const keyOf = (r: AclRule) =>
  [r.principal, r.resourceType, r.patternType, r.resourceName, r.operation].join('\u0000');

/**
 * The ACLs of every principal: READ and DESCRIBE_CONFIGS on what it reads
 * (topics by name, patterns by prefix), WRITE on what it writes, READ on its consumer groups
 * (prefixed) and WRITE on its transactional ids (prefixed). Each implies
 * DESCRIBE (metadata, offsets, lag). Throws when the declarations break the
 * policy (a principal not among the audit writers declaring a write to the
 * audit topic, by name or by pattern), so a wrong declaration fails the
 * build instead of granting it. Sorted, without duplicates.
 */
export function deriveAcls(
  principals: readonly PrincipalAccess[],
  policy: AccessPolicy,
): AclRule[] {
  const rules = new Map<string, AclRule>();
  const add = (r: AclRule) => rules.set(keyOf(r), r);
  const names = new Set<string>();
  for (const p of principals) {
    if (names.has(p.principal)) throw new Error(`principal ${p.principal} is declared twice`);
    names.add(p.principal);
    const principal = p.principal;
    const writesAudit =
      p.writes.includes(policy.auditTopic) ||
      p.writePatterns.some((w) => policy.auditTopic.startsWith(topicPrefixOfPattern(w)));
    if (writesAudit && !policy.auditWriters.includes(principal))
      throw new Error(
        `${principal} declares a write to ${policy.auditTopic}, which only ${policy.auditWriters.join(', ')} may write`,
      );
    const topic = (patternType: AclPatternType, resourceName: string, operation: AclOperation) =>
      add({ principal, resourceType: 'topic', patternType, resourceName, operation });
    // A stage checks the shape of what it reads at start (partitions, cleanup
    // policy of a changelog): DESCRIBE_CONFIGS on its inputs, never ALTER_CONFIGS.
    for (const t of p.reads) {
      topic('literal', t, 'read');
      topic('literal', t, 'describeConfigs');
    }
    for (const pattern of p.readPatterns) {
      topic('prefixed', topicPrefixOfPattern(pattern), 'read');
      topic('prefixed', topicPrefixOfPattern(pattern), 'describeConfigs');
    }
    for (const t of p.writes) topic('literal', t, 'write');
    for (const pattern of p.writePatterns)
      topic('prefixed', topicPrefixOfPattern(pattern), 'write');
    for (const g of p.groupPrefixes)
      add({
        principal,
        resourceType: 'group',
        patternType: 'prefixed',
        resourceName: g,
        operation: 'read',
      });
    for (const t of p.transactionalIdPrefixes)
      add({
        principal,
        resourceType: 'transactionalId',
        patternType: 'prefixed',
        resourceName: t,
        operation: 'write',
      });
  }
  return [...rules.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/** The ACLs of one principal, grouped for display: `operation resourceType pattern name`. */
export function describeAcls(rules: readonly AclRule[], principal: string): string[] {
  return rules
    .filter((r) => r.principal === principal)
    .map(
      (r) =>
        `${r.operation === 'describeConfigs' ? 'DESCRIBE_CONFIGS' : r.operation.toUpperCase()} ${r.resourceType} ${r.resourceName}${r.patternType === 'prefixed' ? '*' : ''}`,
    );
}
