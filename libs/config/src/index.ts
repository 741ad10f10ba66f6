export * from './lib/load-config';
export * from './lib/fragments';
export * from './lib/stack';
export * from './lib/stage';
