export * from './lib/error-category';
export * from './lib/pipeline-error';
export * from './lib/errors';
