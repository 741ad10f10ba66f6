import { uniqueName } from './environment';

/** A literal string as a regular expression source (every metacharacter escaped). */
export function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** An ingest.topicPattern that matches exactly these topics and nothing else. */
export function exactTopicPattern(topics: readonly string[]): string {
  if (topics.length === 0) throw new Error('exactTopicPattern: no topics');
  return `^(?:${topics.map(escapeRegex).join('|')})$`;
}

/**
 * What one scenario's ingest stage reads and under which group. Every
 * scenario's ingest topics are named under its own prefix (a grants.ingest.*
 * name, so the production pattern would match them too), and its stage reads
 * only topics under that prefix: a stage that read every grants.ingest.*
 * topic from the beginning under a fresh group would re-decide the main job's
 * and every other scenario's applications, writing validations, dead letters
 * and audit events for records that are not its own.
 */
export interface ScenarioIngest {
  /** The scenario's consumer group and transactional id prefix. */
  group: string;
  /** Every ingest topic of the scenario starts with `<prefix>.`. */
  prefix: string;
  /** The ingest.topicPattern of the scenario's stage: topics under {@link prefix} only. */
  pattern: string;
  /** The name of one of the scenario's ingest topics. */
  topic(suffix: string): string;
  /** Configuration overrides that give an ingest stage this group and pattern. */
  env: Record<string, string>;
}

/** Configuration overrides that put an ingest stage in `group` and let it read only what `pattern` matches. */
export function ingestScopeEnv(group: string, pattern: string): Record<string, string> {
  return {
    GRANTSTREAM__INGEST__TOPICPATTERN: pattern,
    GRANTSTREAM__INGEST__RUNNER__GROUPID: group,
    GRANTSTREAM__INGEST__RUNNER__TRANSACTIONALIDPREFIX: group,
  };
}

/**
 * A scenario's ingest scope (see {@link ScenarioIngest}): a fresh group and a
 * topic prefix no other scenario or run uses. `name` is a topic-name segment.
 */
export function scenarioIngest(name: string): ScenarioIngest {
  const prefix = uniqueName(`grants.ingest.${name}`);
  const group = uniqueName(`grantstream.ingest.${name}`);
  const pattern = `^${escapeRegex(prefix)}\\..+$`;
  return {
    group,
    prefix,
    pattern,
    topic: (suffix) => `${prefix}.${suffix}`,
    env: ingestScopeEnv(group, pattern),
  };
}

/**
 * Ingest scope for a scenario whose topics already exist under other names
 * (created by a helper that names its own): the pattern matches exactly them.
 */
export function ingestScopeFor(group: string, topics: readonly string[]): Record<string, string> {
  return ingestScopeEnv(group, exactTopicPattern(topics));
}
