import { AUDIT_GENESIS_HASH, buildAuditEvent, type AuditDecision } from '@grantstream/audit';
import {
  AuditEventV1Avro,
  funderIdOf,
  type AuditActionV1,
  type AuditEventV1,
} from '@grantstream/contracts';
import type { PlatformClients } from '@grantstream/kafka';
import { testConfig, uniqueName } from '../environment';

/** The stages of a grant's life, in order, with the action each records. */
export const LIFE: readonly { stage: string; action: AuditActionV1 }[] = [
  { stage: 'ingest', action: 'INGESTED' },
  { stage: 'validation', action: 'VALIDATED' },
  { stage: 'normalization', action: 'NORMALIZED' },
  { stage: 'routing', action: 'FORWARD' },
  { stage: 'submission', action: 'SUBMITTED' },
];

/** A fresh compacted, forever-retained topic shaped like grants.audit.v1, with the AuditEvent schema. */
export async function createAuditTopic(
  clients: PlatformClients,
  name: string,
  extraConfig: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(`test.audit.${name}`);
  await clients.admin.createTopics([
    {
      name: topic,
      partitions: 6,
      replicationFactor: 1,
      config: { 'cleanup.policy': 'compact', 'retention.ms': '-1', ...extraConfig },
      valueSchema: null,
    },
  ]);
  await clients.serde.register(topic, AuditEventV1Avro, testConfig().topics.compatibility);
  return topic;
}

/** The decision of step `step` of a grant's life. */
export function decisionOf(grantId: string, step: number, occurredAt: number): AuditDecision {
  const life = LIFE[step % LIFE.length] ?? LIFE[0]!;
  return {
    grantId,
    funderId: funderIdOf(grantId),
    auditTrailId: `at-${grantId}`,
    stage: life.stage,
    action: life.action,
    payloadHash: AUDIT_GENESIS_HASH.replace(/0/g, 'a'),
    service: { name: life.stage, version: '1.0.0' },
    occurredAt,
    source: { topic: 'grants.ingest.v1', partition: 0, offset: step },
    ruleSetVersion: life.stage === 'routing' ? 'rules-2026.1' : null,
    details:
      life.stage === 'submission' ? { tracking_number: `TRK-${grantId}`, status: 'RECEIVED' } : {},
  };
}

/** A whole chain of `steps` events for one grant, each linked to the one before. */
export function chainFor(
  grantId: string,
  steps: number,
  start: number,
): { key: string; event: AuditEventV1 }[] {
  const out: { key: string; event: AuditEventV1 }[] = [];
  let previous = AUDIT_GENESIS_HASH;
  for (let i = 0; i < steps; i += 1) {
    const built = buildAuditEvent(decisionOf(grantId, i, start + i * 1000), previous);
    out.push(built);
    previous = built.event.event_hash;
  }
  return out;
}

/** Produces events (Avro) keyed as libs/audit keys them. */
export async function produceEvents(
  clients: PlatformClients,
  topic: string,
  events: readonly { key: string; event: AuditEventV1 }[],
): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const slice = events.slice(i, i + 1000);
    const values = await Promise.all(slice.map((e) => clients.serde.encode(topic, e.event)));
    await clients.io.produce(
      topic,
      slice.map((e, j) => ({ key: e.key, value: values[j] ?? null })),
    );
  }
}
