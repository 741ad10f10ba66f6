import { describe, expect, it } from 'vitest';
import { funderOf, isControl, matchRoute, type Route } from './router';

describe('matchRoute', () => {
  const cases: [string, string, Route][] = [
    ['POST', '/funders/NSF/v2/submissions', { kind: 'submit', funderId: 'NSF' }],
    [
      'GET',
      '/funders/NSF/v2/submissions/GRANT00000001',
      { kind: 'read-by-tracking', funderId: 'NSF', tracking: 'GRANT00000001' },
    ],
    [
      'GET',
      '/funders/NSF/v2/submissions?idempotency_key=a%2Fb',
      { kind: 'read-by-key', funderId: 'NSF', idempotencyKey: 'a/b' },
    ],
    [
      'GET',
      '/funders/NSF/v2/submissions',
      { kind: 'read-by-key', funderId: 'NSF', idempotencyKey: undefined },
    ],
    [
      'DELETE',
      '/funders/NSF/v2/submissions',
      { kind: 'method-not-allowed', allow: ['GET', 'POST'], funderId: 'NSF' },
    ],
    [
      'POST',
      '/funders/NSF/v2/submissions/GRANT1',
      { kind: 'method-not-allowed', allow: ['GET'], funderId: 'NSF' },
    ],
    ['GET', '/funders/NSF/v1/submissions', { kind: 'not-found', funderId: 'NSF' }],
    ['GET', '/funders/NSF/v2/submissions/a/b', { kind: 'not-found', funderId: 'NSF' }],
    ['GET', '/funders/%E0%A4%A/v2/submissions', { kind: 'not-found' }],
    ['GET', '/__sim/stats', { kind: 'stats' }],
    ['GET', '/__sim/health', { kind: 'health' }],
    ['POST', '/__sim/reset', { kind: 'reset' }],
    ['GET', '/__sim/reset', { kind: 'method-not-allowed', allow: ['POST'] }],
    ['PUT', '/__sim/funders/BCF', { kind: 'configure-funder', funderId: 'BCF' }],
    ['POST', '/__sim/hooks/officer', { kind: 'hook-deliver', name: 'officer' }],
    ['PUT', '/__sim/hooks/officer', { kind: 'hook-set', name: 'officer' }],
    ['GET', '/__sim/hooks/officer', { kind: 'hook-view', name: 'officer' }],
    ['GET', '/', { kind: 'not-found' }],
    ['GET', '/__sim/hooks/a/b', { kind: 'not-found' }],
  ];

  it.each(cases)('%s %s', (method, url, expected) => {
    expect(matchRoute(method, url)).toEqual(expected);
  });

  it('tells funder API routes from control routes', () => {
    expect(funderOf(matchRoute('POST', '/funders/NSF/v2/submissions'))).toBe('NSF');
    expect(funderOf(matchRoute('PUT', '/__sim/funders/NSF'))).toBeUndefined();
    expect(isControl(matchRoute('PUT', '/__sim/funders/NSF'))).toBe(true);
    expect(isControl(matchRoute('GET', '/__sim/hooks/x'))).toBe(true);
    expect(isControl(matchRoute('POST', '/funders/NSF/v2/submissions'))).toBe(false);
  });
});
