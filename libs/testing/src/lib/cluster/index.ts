export * from './kafka-wire';
export * from './kafka-probe';
export * from './fault-proxy';
export * from './cluster-faults';
