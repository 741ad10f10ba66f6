// Moved to libs/testing (src/lib/scenario); kept so imports of this path keep working.
export { LIFE, createAuditTopic, decisionOf, chainFor, produceEvents } from '@grantstream/testing';
