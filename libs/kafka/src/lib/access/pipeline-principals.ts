import type {
  OutputDeclaration,
  ServiceDeclaration,
  TopicDeclaration,
} from '@grantstream/contracts';
import type { AccessPolicy, PrincipalAccess } from './acl-derivation';

/** The consumer group and transactional id prefix a stage is configured with. */
export interface StageIdentity {
  readonly groupId: string;
  readonly transactionalIdPrefix: string;
}

/** What {@link pipelinePrincipals} derives the principals from. */
export interface PipelinePrincipalsInput {
  /** The pipeline manifest's services (schemas/pipeline.yaml, SERVICE_DECLARATIONS). */
  readonly services: readonly ServiceDeclaration[];
  /** What the runtime writes for every stage (EVERY_STAGE_OUTPUTS): audit events, dead letters. */
  readonly everyStageOutputs: readonly OutputDeclaration[];
  /** The topic declarations (schemas/topics.yaml): which outputs are compacted changelogs. */
  readonly topics: readonly TopicDeclaration[];
  /** Each stage's configured group and transactional id prefix, by service name. */
  readonly stages: Readonly<Record<string, StageIdentity>>;
  readonly auditTopic: string;
  readonly deadLetterTopic: string;
  /** The transactional id of `grantctl dlq redrive` (dlq.redriveTransactionalId). */
  readonly redriveTransactionalId: string;
}

/** The Kafka user name of a service's principal. */
export const principalOf = (service: string): string => `grantstream-${service}`;

/** Read-only principal of auditors' tools (`grantctl audit replay|verify|export`). */
export const AUDITOR_PRINCIPAL = 'grantstream-auditor';
/** Principal of upstream producers and `grantctl submit`: writes the ingest topics only. */
export const UPSTREAM_PRINCIPAL = 'grantstream-upstream';
/** Principal of `grantctl dlq`: reads dead letters, redrives them to the stages' inputs. */
export const OPERATOR_PRINCIPAL = 'grantstream-operator';

const uniq = (xs: readonly string[]) => [...new Set(xs)];

/**
 * One principal per service of the manifest that touches a topic, plus the
 * auditor, upstream and operator principals, each with what it declares:
 * a stage reads its inputs and retry tiers (its input patterns by prefix) and
 * the compacted changelogs it writes (state it restores), writes its outputs,
 * retry tiers and what the runtime writes for every stage, and owns its
 * configured group and transactional id prefix. Returns the principals and
 * the policy: audit writers are the stages and the operator, nobody else.
 */
export function pipelinePrincipals(input: PipelinePrincipalsInput): {
  principals: PrincipalAccess[];
  policy: AccessPolicy;
} {
  const compacted = new Set(
    input.topics
      .filter((t) => (t.config['cleanup.policy'] ?? '').includes('compact'))
      .map((t) => t.name),
  );
  const everyStage = input.everyStageOutputs.map((o) => o.topic);
  const principals: PrincipalAccess[] = [];
  const stageInputs: string[] = [];
  const ingestPatterns: string[] = [];
  const stagePrincipals: string[] = [];
  for (const s of input.services) {
    const reads = s.inputs.flatMap((i) => ('topic' in i ? [i.topic] : []));
    const readPatterns = s.inputs.flatMap((i) => ('pattern' in i ? [i.pattern] : []));
    const tiers = s.retryTiers?.topics ?? [];
    const own = s.outputs.map((o) => o.topic);
    if (reads.length + readPatterns.length + own.length === 0) continue;
    const stage = s.kind === 'stage';
    const identity = input.stages[s.name];
    if (stage && !identity)
      throw new Error(`no group and transactional id configured for ${s.name}`);
    stageInputs.push(...reads, ...tiers);
    if (stage) stagePrincipals.push(principalOf(s.name));
    if (s.name === 'ingest') ingestPatterns.push(...readPatterns);
    principals.push({
      principal: principalOf(s.name),
      description: `the ${s.name} ${stage ? 'stage' : 'service'}: ${s.description}`,
      reads: uniq([...reads, ...tiers, ...own.filter((t) => compacted.has(t))]),
      readPatterns: uniq(readPatterns),
      writes: uniq([...own, ...tiers, ...(stage ? everyStage : [])]),
      writePatterns: [],
      groupPrefixes: identity ? [identity.groupId] : [],
      transactionalIdPrefixes: identity ? [identity.transactionalIdPrefix] : [],
    });
  }
  principals.push(
    {
      principal: AUDITOR_PRINCIPAL,
      description:
        'auditors: grantctl audit replay, verify and export read the audit topic, nothing else',
      reads: [input.auditTopic],
      readPatterns: [],
      writes: [],
      writePatterns: [],
      groupPrefixes: [],
      transactionalIdPrefixes: [],
    },
    {
      principal: UPSTREAM_PRINCIPAL,
      description: 'upstream parsers and grantctl submit: write the ingest topics',
      reads: [],
      readPatterns: [],
      writes: [],
      writePatterns: ingestPatterns,
      groupPrefixes: [],
      transactionalIdPrefixes: [],
    },
    {
      principal: OPERATOR_PRINCIPAL,
      description:
        'grantctl dlq: reads dead letters, redrives them to the stage that failed them, with their audit events',
      reads: [input.deadLetterTopic],
      readPatterns: [],
      writes: uniq([...stageInputs, input.auditTopic]),
      writePatterns: ingestPatterns,
      groupPrefixes: [],
      transactionalIdPrefixes: [input.redriveTransactionalId],
    },
  );
  const auditWriters = [...stagePrincipals, OPERATOR_PRINCIPAL];
  return { principals, policy: { auditTopic: input.auditTopic, auditWriters } };
}
