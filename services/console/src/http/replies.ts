import type { Principal } from '../auth/roles';
import type { Reply, RequestContext, Route } from './console-server';

/** An HTML page (the server's default type). */
export const htmlReply = (
  body: string,
  status = 200,
  headers: Record<string, string | string[]> = {},
): Reply => ({ status, body, headers });

/** A JSON answer; bigints (offsets) as strings. */
export const json = (body: unknown, status = 200): Reply => ({
  status,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
});

/** See-other to `location`. */
export const redirect = (
  location: string,
  headers: Record<string, string | string[]> = {},
): Reply => ({ status: 303, body: '', headers: { location, ...headers } });

/** Who is signed in and the session's CSRF token, which every signed-in page carries. */
export function frameOf(ctx: RequestContext): { principal: Principal; csrfToken: string } {
  if (!ctx.principal || !ctx.session) throw new Error('a signed-in route ran without a session');
  return { principal: ctx.principal, csrfToken: ctx.session.csrfToken };
}

/** A page's same-origin script, public like the other static files (CSP allows 'self' only). */
export function scriptRoute(path: string, body: string): Route {
  return {
    method: 'GET',
    path,
    access: 'public',
    api: false,
    handle: () => Promise.resolve({ status: 200, type: 'text/javascript; charset=utf-8', body }),
  };
}
