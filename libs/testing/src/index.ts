export * from './lib/environment';
export * from './lib/cli';
export * from './lib/builders';
