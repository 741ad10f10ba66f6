export * from './lib/error-category';
export * from './lib/pipeline-error';
export * from './lib/errors';
export * from './lib/secret-registry';
export * from './lib/security-errors';
export * from './lib/console-errors';
