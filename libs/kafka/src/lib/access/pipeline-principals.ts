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

/**
 * The groups and transactional ids a service other than a stage is configured
 * with (the checkpointer: its lease and offsets groups, its transactional id).
 * A service with a transactional id keeps its state in what it writes, so it
 * also reads its outputs back (the checkpointer resumes from its order and
 * checkpoint topics).
 */
export interface ServiceAccessIdentity {
  readonly groupPrefixes: readonly string[];
  readonly transactionalIdPrefixes: readonly string[];
}

/**
 * A tool that sends dead letters back to the stages that failed them, with
 * their REDRIVEN audit events, in its own transaction: `grantctl dlq`
 * (the operator principal) and the console's redrive page (the console's own
 * principal, so a console credential never serves grantctl and the two
 * transactional ids never fence each other). Each reads the dead-letter and
 * audit topics (a redrive skips what was already redriven) and writes every
 * stage input, the ingest topics and the audit topic.
 */
export interface RedriveTool {
  readonly principal: string;
  readonly description: string;
  readonly transactionalId: string;
  /** What else it reads, without a group (the console: its read model's topics). */
  readonly reads?: readonly string[];
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
  /** Groups and transactional ids of services that are not stages, by service name. */
  readonly serviceIdentities?: Readonly<Record<string, ServiceAccessIdentity>>;
  /**
   * Redrive tools besides `grantctl dlq` (the operator), e.g. the console
   * (console.redrive.transactionalId). A tool whose principal is also a
   * service of the manifest keeps that service's reads.
   */
  readonly redriveTools?: readonly RedriveTool[];
}

/** The Kafka user name of a service's principal. */
export const principalOf = (service: string): string => `grantstream-${service}`;

/** Read-only principal of auditors' tools (`grantctl audit replay|verify|export`). */
export const AUDITOR_PRINCIPAL = 'grantstream-auditor';
/** Principal of upstream producers and `grantctl submit`: writes the ingest topics only. */
export const UPSTREAM_PRINCIPAL = 'grantstream-upstream';
/** Principal of `grantctl dlq`: reads dead letters, redrives them to the stages' inputs. */
export const OPERATOR_PRINCIPAL = 'grantstream-operator';
/** Principal of the console (services/console): reads its read model's topics, redrives from its page. */
export const CONSOLE_PRINCIPAL = principalOf('console');

const uniq = (xs: readonly string[]) => [...new Set(xs)];

/**
 * One principal per service of the manifest that touches a topic, plus the
 * auditor, upstream and operator principals, each with what it declares:
 * a stage reads its inputs and retry tiers (its input patterns by prefix) and
 * the compacted changelogs it writes (state it restores), writes its outputs,
 * retry tiers and what the runtime writes for every stage, and owns its
 * configured group and transactional id prefix; a service reads and writes
 * what it declares, with the groups and transactional ids it is configured
 * with; the redrive tools read the dead letters and the audit topic and write
 * the stages' inputs and the audit topic. Returns the principals and the
 * policy: audit writers are the stages and the redrive tools, nobody else.
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
    const stageIdentity = stage ? input.stages[s.name] : undefined;
    if (stage && !stageIdentity)
      throw new Error(`no group and transactional id configured for ${s.name}`);
    const serviceIdentity = stage ? undefined : input.serviceIdentities?.[s.name];
    // A service with a transactional id restores its state from what it writes.
    const restores =
      (serviceIdentity?.transactionalIdPrefixes.length ?? 0) > 0
        ? own
        : own.filter((t) => compacted.has(t));
    if (stage) stageInputs.push(...reads, ...tiers);
    if (stage) stagePrincipals.push(principalOf(s.name));
    if (s.name === 'ingest') ingestPatterns.push(...readPatterns);
    principals.push({
      principal: principalOf(s.name),
      description: `the ${s.name} ${stage ? 'stage' : 'service'}: ${s.description}`,
      reads: uniq([...reads, ...tiers, ...restores]),
      readPatterns: uniq(readPatterns),
      writes: uniq([...own, ...tiers, ...(stage ? everyStage : [])]),
      writePatterns: [],
      groupPrefixes: stageIdentity
        ? [stageIdentity.groupId]
        : uniq(serviceIdentity?.groupPrefixes ?? []),
      transactionalIdPrefixes: stageIdentity
        ? [stageIdentity.transactionalIdPrefix]
        : uniq(serviceIdentity?.transactionalIdPrefixes ?? []),
    });
  }
  // What services other than stages derive from the audit topic (the
  // checkpointer's order and checkpoint topics): `grantctl audit verify`
  // checks the signed log against it, so the auditor reads them too.
  const auditLog = input.services
    .filter(
      (s) =>
        s.kind !== 'stage' && s.inputs.some((i) => 'topic' in i && i.topic === input.auditTopic),
    )
    .flatMap((s) => s.outputs.map((o) => o.topic));
  const redrive = (tool: RedriveTool): PrincipalAccess => ({
    principal: tool.principal,
    description: tool.description,
    reads: uniq([input.deadLetterTopic, input.auditTopic, ...(tool.reads ?? [])]),
    readPatterns: [],
    writes: uniq([...stageInputs, input.auditTopic]),
    writePatterns: ingestPatterns,
    groupPrefixes: [],
    transactionalIdPrefixes: [tool.transactionalId],
  });
  const redriveTools = [
    {
      principal: OPERATOR_PRINCIPAL,
      description:
        'grantctl dlq: reads dead letters, redrives them to the stage that failed them, with their audit events',
      transactionalId: input.redriveTransactionalId,
    },
    ...(input.redriveTools ?? []),
  ];
  const others: PrincipalAccess[] = [];
  for (const tool of redriveTools.slice(1)) {
    const declared = principals.findIndex((p) => p.principal === tool.principal);
    const access = redrive(tool);
    if (declared < 0) {
      others.push(access);
      continue;
    }
    const p = principals[declared] as PrincipalAccess;
    principals[declared] = {
      ...p,
      description: `${p.description}; ${tool.description}`,
      reads: uniq([...p.reads, ...access.reads]),
      writes: uniq([...p.writes, ...access.writes]),
      writePatterns: uniq([...p.writePatterns, ...access.writePatterns]),
      transactionalIdPrefixes: uniq([
        ...p.transactionalIdPrefixes,
        ...access.transactionalIdPrefixes,
      ]),
    };
  }
  principals.push(
    {
      principal: AUDITOR_PRINCIPAL,
      description:
        'auditors: grantctl audit replay, verify and export read the audit topic and the signed log kept over it, nothing else',
      reads: uniq([input.auditTopic, ...auditLog]),
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
    redrive(redriveTools[0] as RedriveTool),
    ...others,
  );
  const auditWriters = [...stagePrincipals, ...redriveTools.map((t) => t.principal)];
  return { principals, policy: { auditTopic: input.auditTopic, auditWriters } };
}
