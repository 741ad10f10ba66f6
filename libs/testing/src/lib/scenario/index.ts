export * from './waits';
export * from './simulator';
export * from './records';
export * from './service-group';
export * from './ingest';
export * from './scoped-topics';
export * from './audit-trails';
export * from './scenario';
