export * from './lib/environment';
export * from './lib/cli';
export * from './lib/builders';
export * from './lib/portal-timing';
export * from './lib/attachment-fixtures';
export * from './lib/hostile';
export * from './lib/scenario-scope';
export * from './lib/chromium';
