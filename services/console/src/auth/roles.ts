/** Who may do what in the console, least to most. */
export const ROLES = ['viewer', 'auditor', 'operator'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/**
 * What a request needs: `view` every page and read API; `audit` the evidence
 * bundle and verification details; `redrive` sending a dead letter back.
 */
export type Permission = 'view' | 'audit' | 'redrive';

const GRANTED: Record<Role, readonly Permission[]> = {
  viewer: ['view'],
  auditor: ['view', 'audit'],
  operator: ['view', 'audit', 'redrive'],
};

/** Whether `role` holds `permission`. */
export function allows(role: Role, permission: Permission): boolean {
  return GRANTED[role].includes(permission);
}

/** A signed-in person: who, with which role, and which identity provider vouched for them. */
export interface Principal {
  username: string;
  role: Role;
  provider: string;
}
