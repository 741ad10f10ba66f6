import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from './roles';

/** One browser's session: anonymous until sign-in, each with its own CSRF token. */
export interface Session {
  id: string;
  /** Null before sign-in (the sign-in form itself carries a CSRF token). */
  principal: Principal | null;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

/** Settings of {@link SessionStore} (`console.session`). */
export interface SessionSettings {
  ttlMs: number;
  maxSessions: number;
  tokenBytes: number;
}

/** Whether two tokens are equal, in time independent of where they differ. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Sessions in memory: ids and CSRF tokens are random, sessions expire after
 * `ttlMs`, and at most `maxSessions` are kept (the oldest goes first), so
 * anonymous visits cannot grow memory without bound. A restart signs
 * everyone out, which a console can afford.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly settings: SessionSettings,
    private readonly now: () => number = Date.now,
  ) {}

  private token(): string {
    return randomBytes(this.settings.tokenBytes).toString('base64url');
  }

  /** A new session (anonymous, or signed in); a fresh id each time, so an id known before sign-in is worthless after. */
  create(principal: Principal | null): Session {
    while (this.sessions.size >= this.settings.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const at = this.now();
    const session: Session = {
      id: this.token(),
      principal,
      csrfToken: this.token(),
      createdAt: at,
      expiresAt: at + this.settings.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, or null (unknown or expired). */
  get(id: string | undefined): Session | null {
    if (id === undefined) return null;
    const s = this.sessions.get(id);
    if (s === undefined) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  /** Ends a session (sign-out, or the anonymous one replaced at sign-in). */
  end(id: string): void {
    this.sessions.delete(id);
  }
}
