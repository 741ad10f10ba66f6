// Moved to libs/testing (src/lib/scenario); kept so imports of this path keep working.
export { waitForGroupAssigned } from '@grantstream/testing';
