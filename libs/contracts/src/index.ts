/**
 * The pipeline's contracts: record types, zod schemas, Avro schemas, topic names,
 * subjects and dead-letter headers generated from schemas/, plus the few helpers
 * every stage needs to use them. Depends on no other @grantstream library.
 */
export * from './generated';
export {
  AVRO_LOGICAL_TYPES,
  METADATA_LOGICAL_TYPE,
  MetadataMapSchema,
  MetadataMapType,
  MetadataValueSchema,
  avroTypeFor,
  type MetadataValue,
} from './lib/metadata';
export { funderIdOf, funderIdOrNull, funderPrefixOf, subjectFor } from './lib/naming';
export { SUBMISSION_RETRY_TIER_TOPICS } from './lib/retry-tiers';
export {
  PIPELINE_STAGES,
  SERVICE_NAMES,
  declaredInputTopicsOf,
  inputTopicsOf,
  isServiceName,
  serviceDeclaration,
  settingEnvName,
  type PipelineStageName,
  type ServiceName,
} from './lib/pipeline';
export type {
  InputDeclaration,
  OutputDeclaration,
  RetryTiersDeclaration,
  ServiceDeclaration,
  ServiceKind,
} from './lib/pipeline-declaration';
export type {
  DeadLetterHeaderDeclaration,
  RecordVersion,
  TopicDeclaration,
} from './lib/topic-declaration';
