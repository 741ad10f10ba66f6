/**
 * Dead letters as operators read them: describing a dead letter's headers,
 * selecting by criteria, deciding whether one may be redriven, and building
 * the message and REDRIVEN audit event a redrive sends. Pure code shared by
 * `grantctl dlq` and the console; the reading and producing stay with them.
 */
export * from './lib/dead-letters';
export * from './lib/redrive-plan';
