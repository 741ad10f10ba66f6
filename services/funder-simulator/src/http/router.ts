/** A request matched to what the simulator does with it. */
export type Route =
  | { kind: 'submit'; funderId: string }
  | { kind: 'read-by-tracking'; funderId: string; tracking: string }
  | { kind: 'read-by-key'; funderId: string; idempotencyKey: string | undefined }
  | { kind: 'stats' }
  | { kind: 'health' }
  | { kind: 'reset' }
  | { kind: 'configure-funder'; funderId: string }
  | { kind: 'hook-deliver'; name: string }
  | { kind: 'hook-set'; name: string }
  | { kind: 'hook-view'; name: string }
  | { kind: 'method-not-allowed'; allow: string[]; funderId?: string }
  | { kind: 'not-found'; funderId?: string };

/** Whether a route is part of a funder's API (rate-limited, with latency) rather than a control endpoint. */
export function funderOf(route: Route): string | undefined {
  return 'funderId' in route && route.kind !== 'configure-funder' ? route.funderId : undefined;
}

/** Whether a route is a test/ops control endpoint, answered to loopback clients only. */
export function isControl(route: Route): boolean {
  return (
    route.kind === 'stats' ||
    route.kind === 'health' ||
    route.kind === 'reset' ||
    route.kind === 'configure-funder' ||
    route.kind.startsWith('hook-')
  );
}

/** Matches a method and URL (path and query) to a {@link Route}. */
export function matchRoute(method: string, rawUrl: string): Route {
  const url = new URL(rawUrl, 'http://simulator.invalid');
  let segments: string[];
  try {
    segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { kind: 'not-found' };
  }
  const [first, second, third, fourth, fifth, ...rest] = segments;

  if (first === 'funders' && second !== undefined) {
    const funderId = second;
    if (third !== 'v2' || fourth !== 'submissions' || rest.length > 0) {
      return { kind: 'not-found', funderId };
    }
    if (fifth === undefined) {
      if (method === 'POST') return { kind: 'submit', funderId };
      if (method === 'GET') {
        return {
          kind: 'read-by-key',
          funderId,
          idempotencyKey: url.searchParams.get('idempotency_key') ?? undefined,
        };
      }
      return { kind: 'method-not-allowed', allow: ['GET', 'POST'], funderId };
    }
    return method === 'GET'
      ? { kind: 'read-by-tracking', funderId, tracking: fifth }
      : { kind: 'method-not-allowed', allow: ['GET'], funderId };
  }

  if (first === '__sim' && fourth === undefined) {
    if (second === 'stats' && third === undefined) {
      return method === 'GET' ? { kind: 'stats' } : notAllowed('GET');
    }
    if (second === 'health' && third === undefined) {
      return method === 'GET' ? { kind: 'health' } : notAllowed('GET');
    }
    if (second === 'reset' && third === undefined) {
      return method === 'POST' ? { kind: 'reset' } : notAllowed('POST');
    }
    if (second === 'funders' && third !== undefined) {
      return method === 'PUT' ? { kind: 'configure-funder', funderId: third } : notAllowed('PUT');
    }
    if (second === 'hooks' && third !== undefined) {
      if (method === 'POST') return { kind: 'hook-deliver', name: third };
      if (method === 'PUT') return { kind: 'hook-set', name: third };
      if (method === 'GET') return { kind: 'hook-view', name: third };
      return notAllowed('GET', 'POST', 'PUT');
    }
  }
  return { kind: 'not-found' };
}

function notAllowed(...allow: string[]): Route {
  return { kind: 'method-not-allowed', allow };
}
