export * from './lib/kafka-client';
export * from './lib/admin';
export * from './lib/serde/wire-format';
export * from './lib/serde/avro-serde';
export * from './lib/topics/topic-plan';
export * from './lib/topics/apply-topics';
export * from './lib/platform';
export * from './lib/topic-io';
