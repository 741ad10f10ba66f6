export * from './lib/load-config';
export * from './lib/fragments';
export * from './lib/redis';
export * from './lib/stack';
export * from './lib/stage';
export * from './lib/memory-budget';
export * from './lib/fallbacks';
