import { SERVICE_DECLARATIONS, TOPIC_DECLARATIONS } from '../generated';
import type { ServiceDeclaration } from './pipeline-declaration';

type Declared = (typeof SERVICE_DECLARATIONS)[number];

/** Name of a service of schemas/pipeline.yaml. */
export type ServiceName = Declared['name'];

/** Name of a pipeline stage (a service of kind `stage`). */
export type PipelineStageName = Extract<Declared, { kind: 'stage' }>['name'];

/** The pipeline stages in flow order, as schemas/pipeline.yaml lists them. */
export const PIPELINE_STAGES: readonly PipelineStageName[] = SERVICE_DECLARATIONS.filter(
  (s): s is Extract<Declared, { kind: 'stage' }> => s.kind === 'stage',
).map((s) => s.name);

/** Every service name, stages first, as schemas/pipeline.yaml lists them. */
export const SERVICE_NAMES: readonly ServiceName[] = SERVICE_DECLARATIONS.map((s) => s.name);

/** Whether `name` is a declared service (for names from a command line). */
export function isServiceName(name: string): name is ServiceName {
  return SERVICE_NAMES.includes(name as ServiceName);
}

/** The declaration of one service. */
export function serviceDeclaration(name: ServiceName): ServiceDeclaration {
  const found = SERVICE_DECLARATIONS.find((s) => s.name === name);
  if (!found) throw new Error(`${name} is not declared in schemas/pipeline.yaml`);
  return found;
}

/**
 * Every topic a service reads, among `topics` (the topics that exist, e.g. on
 * a broker): its declared input topics and retry tiers, and each of `topics`
 * its patterns match. A run that starts a fresh group at the end of its
 * inputs must take them from here: an input left out is read from its first
 * offset, history included.
 */
export function inputTopicsOf(service: ServiceDeclaration, topics: readonly string[]): string[] {
  const patterns = service.inputs.flatMap((i) => ('pattern' in i ? [new RegExp(i.pattern)] : []));
  const named = [
    ...service.inputs.flatMap((i) => ('topic' in i ? [i.topic] : [])),
    ...(service.retryTiers?.topics ?? []),
  ];
  const matched = topics.filter((t) => patterns.some((p) => p.test(t)));
  return [...new Set([...named, ...matched])];
}

/** Every declared topic (schemas/topics.yaml) a service reads: {@link inputTopicsOf} the declared topics. */
export function declaredInputTopicsOf(service: ServiceDeclaration): string[] {
  return inputTopicsOf(
    service,
    TOPIC_DECLARATIONS.map((d) => d.name),
  );
}

/**
 * The environment override of a setting, as libs/config reads it:
 * `statusPolling.metrics.port` -> `GRANTSTREAM__STATUS_POLLING__METRICS__PORT`
 * (the same spelling as a declaration's envSection).
 */
export function settingEnvName(setting: string): string {
  const segments = setting.split('.').map((s) => s.replace(/([A-Z])/g, '_$1').toUpperCase());
  return `GRANTSTREAM__${segments.join('__')}`;
}
