// Moved to libs/testing (src/lib/scenario); kept so imports of this path keep working.
export { createScopedTopics, deleteScopedTopics } from '@grantstream/testing';
