/**
 * Dead letters as operators read them: describing a dead letter's headers,
 * selecting by criteria, deciding whether one may be redriven, and building
 * the message and REDRIVEN audit event a redrive sends, and the redrive
 * itself (redriveDeadLetters), shared by `grantctl dlq` and the console; the
 * reading, and the clients a redrive writes with, stay with them.
 */
export * from './lib/dead-letters';
export * from './lib/redrive-plan';
export * from './lib/redrive';
