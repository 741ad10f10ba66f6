import { describe, expect, it } from 'vitest';
import type { FunderBehaviour } from './behaviour';
import { FunderPortal, type SubmitRequest } from './portal';

const behaviour: FunderBehaviour = {
  token: 'tok',
  rateLimitPerSecond: 1,
  burst: 3,
  latencyMs: { min: 0, max: 0 },
  serverErrorRate: 0,
  timeoutRate: 0,
  timeoutDelayMs: 0,
  validationFailureRate: 0,
  statusDwellMs: 1000,
  slowStatusRate: 0,
  slowStatusDwellMs: 1000,
  statusRejectRate: 0,
};
const never = () => 0.999;

function post(portal: FunderPortal, now: number, key: string | undefined, body: unknown) {
  const request: SubmitRequest = {
    rateLimit: portal.arrive(now),
    authorization: 'Bearer tok',
    idempotencyKey: key,
    body: { kind: 'text', text: JSON.stringify(body) },
  };
  const answer = portal.submit(request, now, never);
  portal.leave();
  return answer;
}

describe('FunderPortal', () => {
  it('creates once per idempotency key and counts every post per key', () => {
    const portal = new FunderPortal('NSF', behaviour);
    const first = post(portal, 0, 'k', { grant_id: 'NSF-1', b: 1, a: 2 });
    const again = post(portal, 0, 'k', { a: 2, grant_id: 'NSF-1', b: 1 });
    const conflict = post(portal, 0, 'k', { grant_id: 'NSF-1', b: 2 });
    expect(first).toMatchObject({
      status: 201,
      body: {
        tracking_number: 'GRANT00000001',
        status: 'RECEIVED',
        received_at: '1970-01-01T00:00:00.000Z',
      },
    });
    expect(again).toMatchObject({ status: 200, body: { tracking_number: 'GRANT00000001' } });
    expect(conflict).toMatchObject({
      status: 422,
      body: { error: 'idempotency key reused with a different body' },
    });
    expect(portal.stats(0)).toMatchObject({
      requests: 3,
      created: 1,
      replays: 1,
      badRequests: 1,
      submissionsPerKey: { k: 1 },
      postsPerKey: { k: 3 },
      statuses: { RECEIVED: 1, PROCESSING: 0 },
    });
  });

  it('rate-limits with its bucket and counts the violation', () => {
    const portal = new FunderPortal('NSF', behaviour);
    const answers = [1, 2, 3, 4].map((i) => post(portal, 0, `k${i}`, { grant_id: `NSF-${i}` }));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429]);
    expect(answers[3]?.retryAfterSeconds).toBe(1);
    expect(post(portal, 1000, 'k4', { grant_id: 'NSF-4' }).status).toBe(201);
    expect(portal.stats(1000)).toMatchObject({
      rateLimited: 1,
      created: 4,
      postsPerKey: { k4: 2 },
    });
  });

  it('tracks requests in flight and the most at once', () => {
    const portal = new FunderPortal('NSF', behaviour);
    portal.arrive(0);
    portal.arrive(0);
    portal.leave();
    portal.arrive(0);
    expect(portal.stats(0)).toMatchObject({ inFlight: 2, maxConcurrent: 2 });
  });

  it('a new rate starts a fresh bucket; other changes keep it', () => {
    const portal = new FunderPortal('NSF', { ...behaviour, burst: 1 });
    expect(portal.arrive(0).ok).toBe(true);
    portal.configure({ ...portal.behaviour, serverErrorRate: 0.5 });
    expect(portal.arrive(0).ok).toBe(false);
    portal.configure({ ...portal.behaviour, burst: 2 });
    expect(portal.arrive(0).ok).toBe(true);
  });

  it('reads by tracking number and by key, with the status of the moment', () => {
    const portal = new FunderPortal('NSF', { ...behaviour, burst: 100 });
    post(portal, 0, 'k', { grant_id: 'NSF-1' });
    const gate = () => ({ rateLimit: portal.arrive(4000), authorization: 'Bearer tok' });
    expect(portal.readByTracking(gate(), 'GRANT00000001', 4000, never)).toMatchObject({
      status: 200,
      body: {
        status: 'AGENCY_TRACKING_NUMBER_ASSIGNED',
        agency_tracking_number: 'NSF-00000001',
        grant_id: 'NSF-1',
      },
    });
    expect(portal.readByKey(gate(), 'k', 2500, never)).toMatchObject({
      status: 200,
      body: { tracking_number: 'GRANT00000001', status: 'VALIDATED' },
    });
    expect(portal.readByKey(gate(), 'nope', 0, never).status).toBe(404);
    expect(portal.readByKey(gate(), undefined, 0, never).status).toBe(400);
    expect(portal.readByTracking(gate(), 'GRANT99999999', 0, never).status).toBe(404);
    expect(
      portal.readByTracking(
        { rateLimit: { ok: true }, authorization: 'Bearer nope' },
        'GRANT00000001',
        0,
        never,
      ).status,
    ).toBe(401);
  });

  it('answers a flapping submission from its two replicas in turn, every read a flip', () => {
    const portal = new FunderPortal('NSF', {
      ...behaviour,
      burst: 100,
      statusRejectRate: 1,
      flapGrantIds: ['NSF-1'],
    });
    post(portal, 0, 'k', { grant_id: 'NSF-1' });
    const gate = () => ({ rateLimit: portal.arrive(60_000), authorization: 'Bearer tok' });
    const reads = [1, 2, 3, 4].map(
      (): unknown => portal.readByTracking(gate(), 'GRANT00000001', 60_000, never).body,
    );
    expect(reads.map((b) => (b as { status: string }).status)).toEqual([
      'VALIDATED',
      'PROCESSING',
      'VALIDATED',
      'PROCESSING',
    ]);
    expect(reads[1]).toMatchObject({
      status_history: [{ status: 'RECEIVED' }, { status: 'PROCESSING' }],
      messages: [],
    });
  });

  it.each([
    ['no header', undefined, 401],
    ['another scheme', 'Basic tok', 401],
    ['wrong token', 'Bearer tak', 401],
    ['lower-case scheme', 'bearer tok', 201],
  ])('authorization: %s', (_name, authorization, status) => {
    const portal = new FunderPortal('NSF', behaviour);
    const answer = portal.submit(
      {
        rateLimit: { ok: true },
        authorization,
        idempotencyKey: 'k',
        body: { kind: 'text', text: '{"grant_id":"NSF-1"}' },
      },
      0,
      never,
    );
    expect(answer.status).toBe(status);
  });
});
