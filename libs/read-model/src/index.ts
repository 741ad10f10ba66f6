/**
 * The console's read model: an indexed embedded store (SQLite compiled to
 * WebAssembly) of the audit, status and dead-letter topics, kept up by a
 * projector that reads them read_committed without a consumer group and
 * stores its position per partition with the rows. Pages query the store;
 * none scans a topic per request.
 */
export * from './lib/read-model.config';
export * from './lib/lag';
export * from './lib/projection';
export * from './lib/store-schema';
export * from './lib/read-model-store';
export { grantOrderOf, type GrantOrder } from './lib/grant-search-sql';
export * from './lib/projector';
