import { verifyPassword } from './password';
import type { Principal } from './roles';
import type { LocalUser } from './users-file';

/**
 * Vouches for a person signing in. The local provider checks a password
 * against the users file. The seam for production's OIDC: a provider whose
 * sign-in is a redirect to the identity provider and back implements
 * {@link RedirectIdentityProvider} instead, mapping a group claim to a role;
 * the session, CSRF and role checks after sign-in stay the same.
 */
export interface PasswordIdentityProvider {
  readonly kind: 'password';
  readonly name: string;
  /** The principal when the credentials are right, else null (never why: no user enumeration). */
  authenticate(username: string, password: string): Promise<Principal | null>;
}

/** The OIDC-shaped seam (authorization code flow); not implemented by the local console. */
export interface RedirectIdentityProvider {
  readonly kind: 'redirect';
  readonly name: string;
  /** Where to send the browser, with a state value bound to the pre-sign-in session. */
  beginSignIn(state: string): Promise<URL>;
  /** The principal from the callback's query (code and state), or null when refused. */
  completeSignIn(query: URLSearchParams, state: string): Promise<Principal | null>;
}

/** Any identity provider the console can be configured with. */
export type IdentityProvider = PasswordIdentityProvider | RedirectIdentityProvider;

/** A hash of a password nobody has, for a users file with nobody in it. */
const DECOY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** Users and scrypt hashes from the local users file. */
export class LocalUsersProvider implements PasswordIdentityProvider {
  readonly kind = 'password';
  readonly name = 'local';
  private readonly users: ReadonlyMap<string, LocalUser>;
  private readonly decoy: string;

  constructor(
    users: readonly LocalUser[],
    private readonly maxMemoryBytes: number,
  ) {
    this.users = new Map(users.map((u) => [u.username, u]));
    this.decoy = users[0]?.passwordHash ?? DECOY_HASH;
  }

  async authenticate(username: string, password: string): Promise<Principal | null> {
    const user = this.users.get(username);
    const ok = await verifyPassword(
      password,
      // An unknown user is checked against another user's hash (the same cost), then refused.
      user?.passwordHash ?? this.decoy,
      this.maxMemoryBytes,
    );
    return ok && user ? { username: user.username, role: user.role, provider: this.name } : null;
  }
}
