import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@grantstream/logging';
import type { FunderBehaviour } from '../domain/behaviour';
import { seededRandom } from '../domain/hash';
import type { SimulatorSettings } from '../simulator.config';
import { isLoopback } from './io';
import { createSimulator, type Simulator } from './simulator';

const calm: FunderBehaviour = {
  token: 'nsf-token',
  rateLimitPerSecond: 100,
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

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(nsf: Partial<FunderBehaviour> = {}) {
  const clock = { now: Date.UTC(2025, 0, 6, 12) };
  const settings: SimulatorSettings = {
    host: '127.0.0.1',
    port: 0,
    seed: 1,
    maxBodyBytes: 2048,
    funders: { NSF: { ...calm, ...nsf }, BCF: { ...calm, token: 'bcf-token' } },
  };
  const sim = createSimulator(settings, {
    logger: createLogger({ service: 'funder-simulator-test', level: 'silent' }),
    now: () => clock.now,
    random: seededRandom(7),
  });
  running.push(sim);
  const { url } = await sim.listen();
  const base = sim.baseUrl('NSF');

  const submit = (
    body: unknown,
    {
      key = 'key-1',
      token = 'nsf-token',
      signal,
    }: { key?: string | null; token?: string; signal?: AbortSignal } = {},
  ) =>
    fetch(`${base}/v2/submissions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(key === null ? {} : { 'idempotency-key': key }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  const get = (path: string, token = 'nsf-token') =>
    fetch(`${base}/v2/submissions${path}`, { headers: { authorization: `Bearer ${token}` } });
  const control = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${url}/__sim${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const nsfStats = () => sim.stats().funders['NSF']!;
  return { sim, url, clock, submit, get, control, nsfStats };
}

const grant = { grant_id: 'NSF-2025-00001', title: 'Soil carbon' };

describe('funder simulator over HTTP', () => {
  it('answers an unknown funder and an unknown path with 404 JSON', async () => {
    const { url } = await start();
    for (const path of ['/funders/NOPE/v2/submissions', '/nothing', '/funders/NSF/v3/x']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toHaveProperty('error');
    }
  });

  it('refuses a wrong token with 401 and a missing key with 400, creating nothing', async () => {
    const { submit, nsfStats } = await start();
    const unauthorized = await submit(grant, { token: 'bcf-token' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer');
    expect(await unauthorized.json()).toEqual({ error: 'missing or invalid bearer token' });
    const keyless = await submit(grant, { key: null });
    expect(keyless.status).toBe(400);
    expect(await keyless.json()).toEqual({ error: 'Idempotency-Key header is required' });
    expect((await submit('{not json')).status).toBe(400);
    const noGrant = await submit({ title: 'x' });
    expect(noGrant.status).toBe(422);
    expect(await noGrant.json()).toEqual({
      errors: [
        { field: 'grant_id', message: 'grant_id is required and must be a non-empty string' },
      ],
    });
    expect((await submit({ grant_id: 'x', pad: 'y'.repeat(4000) })).status).toBe(413);
    expect(nsfStats()).toMatchObject({ created: 0, unauthorized: 1, badRequests: 4 });
  });

  it('creates with 201, replays the same key and body with 200, refuses the key with another body', async () => {
    const { submit, nsfStats, clock } = await start();
    const created = await submit(grant);
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json');
    const first = (await created.json()) as Record<string, unknown>;
    expect(first).toEqual({
      tracking_number: expect.stringMatching(/^GRANT\d{8}$/),
      grant_id: 'NSF-2025-00001',
      status: 'RECEIVED',
      received_at: new Date(clock.now).toISOString(),
    });
    clock.now += 1500;
    const replay = await submit({ title: 'Soil carbon', grant_id: 'NSF-2025-00001' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({
      tracking_number: first['tracking_number'],
      status: 'PROCESSING',
    });
    const conflict = await submit({ ...grant, title: 'Changed' });
    expect(conflict.status).toBe(422);
    expect(await conflict.json()).toEqual({
      error: 'idempotency key reused with a different body',
    });
    const other = (await (
      await submit({ grant_id: 'NSF-2025-00002' }, { key: 'key-2' })
    ).json()) as {
      tracking_number: string;
    };
    expect(other.tracking_number).not.toBe(first['tracking_number']);
    expect(nsfStats()).toMatchObject({
      created: 2,
      submissionsPerKey: { 'key-1': 1, 'key-2': 1 },
      postsPerKey: { 'key-1': 3, 'key-2': 1 },
    });
  });

  it('answers 429 with Retry-After past the bucket, counts each violation, and lets the next through in time', async () => {
    const { submit, get, nsfStats, clock, control } = await start({
      rateLimitPerSecond: 2,
      burst: 2,
    });
    expect((await submit(grant, { key: 'a' })).status).toBe(201);
    expect((await get('/GRANT00000001')).status).toBe(200);
    const limited = await submit(grant, { key: 'b', token: 'wrong' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await get('/GRANT00000001')).status).toBe(429);
    expect(nsfStats()).toMatchObject({ rateLimited: 2, requests: 4, created: 1 });
    clock.now += 500;
    expect((await submit({ grant_id: 'NSF-2025-00009' }, { key: 'b' })).status).toBe(201);

    await control('PUT', '/funders/NSF', { retryAfterSeconds: 30 });
    await submit(grant, { key: 'c' });
    const fixed = await submit(grant, { key: 'c' });
    expect(fixed.status).toBe(429);
    expect(fixed.headers.get('retry-after')).toBe('30');
  });

  it('keeps each funder behind its own bucket', async () => {
    const { submit, url } = await start({ rateLimitPerSecond: 1, burst: 1 });
    await submit(grant, { key: 'a' });
    expect((await submit(grant, { key: 'b' })).status).toBe(429);
    const bcf = await fetch(`${url}/funders/BCF/v2/submissions`, {
      method: 'POST',
      headers: { authorization: 'Bearer bcf-token', 'idempotency-key': 'a' },
      body: JSON.stringify({ grant_id: 'BCF-2025-00001' }),
    });
    expect(bcf.status).toBe(201);
  });

  it('switches a 5xx storm on at runtime and off again', async () => {
    const { submit, control, nsfStats } = await start();
    const on = await control('PUT', '/funders/NSF', { serverErrorRate: 1 });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ funder: 'NSF', behaviour: { serverErrorRate: 1 } });
    const statuses = await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map(async (key) => (await submit(grant, { key })).status),
    );
    for (const s of statuses) expect([500, 502, 503]).toContain(s);
    expect(nsfStats()).toMatchObject({ serverErrors: 6, created: 0 });
    await control('PUT', '/funders/NSF', { serverErrorRate: 0 });
    expect((await submit(grant, { key: 'a' })).status).toBe(201);

    const bad = await control('PUT', '/funders/NSF', { serverErrorRate: 2, colour: 'red' });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: unknown[] }).errors).toHaveLength(2);
    expect((await control('PUT', '/funders/NOPE', { serverErrorRate: 0 })).status).toBe(404);
  });

  it('refuses a failing grant with 422 and realistic messages, creating nothing', async () => {
    const { submit, nsfStats } = await start({ rejectGrantIds: ['NSF-2025-00666'] });
    const res = await submit({ grant_id: 'NSF-2025-00666' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors.length).toBeGreaterThan(0);
    expect(body.errors[0]?.message).toMatch(/^(SF424_4_0-Field|Attachment)/);
    expect(nsfStats()).toMatchObject({ rejections: 1, created: 0, submissionsPerKey: {} });
  });

  it('on a timeout creates the submission, and the idempotency-key lookup finds it', async () => {
    const { submit, get, nsfStats } = await start({ timeoutRate: 1, timeoutDelayMs: 60_000 });
    await expect(
      submit(grant, { key: 'slow', signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    expect(nsfStats()).toMatchObject({ created: 1, timeouts: 1 });
    const found = await get('?idempotency_key=slow');
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({
      tracking_number: 'GRANT00000001',
      grant_id: 'NSF-2025-00001',
      status: 'RECEIVED',
    });
    expect((await get('?idempotency_key=other')).status).toBe(404);
    expect((await get('')).status).toBe(400);
    await vi.waitFor(() => expect(nsfStats().inFlight).toBe(0));
  });

  it('on a drop creates the submission and cuts the connection', async () => {
    const { submit, nsfStats } = await start({ dropRate: 1 });
    await expect(submit(grant, { key: 'cut' })).rejects.toThrow();
    expect(nsfStats()).toMatchObject({ created: 1, drops: 1, submissionsPerKey: { cut: 1 } });
  });

  it('moves a submission through the Grants.gov statuses as the clock advances', async () => {
    const { submit, get, clock, sim } = await start();
    await submit(grant);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const body = (await (await get('/GRANT00000001')).json()) as { status: string };
      seen.push(body.status);
      clock.now += 1000;
    }
    expect(seen).toEqual([
      'RECEIVED',
      'PROCESSING',
      'VALIDATED',
      'RECEIVED_BY_AGENCY',
      'AGENCY_TRACKING_NUMBER_ASSIGNED',
      'AGENCY_TRACKING_NUMBER_ASSIGNED',
    ]);
    const final = (await (await get('/GRANT00000001')).json()) as Record<string, unknown>;
    expect(final).toMatchObject({
      agency_tracking_number: 'NSF-00000001',
      messages: [],
      status_history: [
        { status: 'RECEIVED' },
        { status: 'PROCESSING' },
        { status: 'VALIDATED' },
        { status: 'RECEIVED_BY_AGENCY' },
        { status: 'AGENCY_TRACKING_NUMBER_ASSIGNED' },
      ],
    });
    expect(sim.stats().funders['NSF']?.statuses).toMatchObject({
      AGENCY_TRACKING_NUMBER_ASSIGNED: 1,
      RECEIVED: 0,
    });
    expect((await get('/GRANT99999999')).status).toBe(404);
  });

  it('ends a rejected submission in REJECTED_WITH_ERRORS after PROCESSING, with messages', async () => {
    const { submit, get, clock } = await start({
      statusRejectRate: 1,
      slowStatusRate: 1,
      slowStatusDwellMs: 5000,
    });
    await submit(grant);
    clock.now += 5000;
    expect(await (await get('/GRANT00000001')).json()).toMatchObject({ status: 'PROCESSING' });
    clock.now += 5000;
    const body = (await (await get('/GRANT00000001')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'REJECTED_WITH_ERRORS',
      status_history: [
        { status: 'RECEIVED' },
        { status: 'PROCESSING' },
        { status: 'REJECTED_WITH_ERRORS' },
      ],
    });
    expect((body['messages'] as unknown[]).length).toBeGreaterThan(0);
    expect(body).not.toHaveProperty('agency_tracking_number');
  });

  it('counts requests in flight and the most at once', async () => {
    const { submit, nsfStats } = await start({ latencyMs: { min: 150, max: 150 } });
    const answers = await Promise.all(
      [1, 2, 3, 4].map((i) => submit({ grant_id: `NSF-2025-0000${i}` }, { key: `k${i}` })),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
    expect(nsfStats().maxConcurrent).toBe(4);
    await vi.waitFor(() => expect(nsfStats().inFlight).toBe(0));
  });

  it('plays a webhook receiver that goes down, comes back, and dedupes by key', async () => {
    const { control } = await start();
    const deliver = (key: string, body: unknown) =>
      control('POST', '/hooks/officer', body, { 'idempotency-key': key });
    expect((await control('PUT', '/hooks/officer', { down: true })).status).toBe(200);
    expect((await deliver('n1', { grant_id: 'NSF-1' })).status).toBe(503);
    await control('PUT', '/hooks/officer', { down: false });
    expect((await deliver('n1', { grant_id: 'NSF-1' })).status).toBe(201);
    expect((await deliver('n1', { grant_id: 'NSF-1' })).status).toBe(200);
    expect((await control('PUT', '/hooks/officer', { down: 'yes' })).status).toBe(422);
    const view = await control('GET', '/hooks/officer');
    expect(await view.json()).toEqual({
      received: [{ grant_id: 'NSF-1' }],
      attempts: 3,
      duplicates: 1,
      down: false,
    });
  });

  it('resets all state and restores the configured behaviour', async () => {
    const { submit, get, control, nsfStats } = await start();
    await submit(grant);
    await control('PUT', '/funders/NSF', { serverErrorRate: 1 });
    await control('POST', '/hooks/officer', { n: 1 });
    const reset = await control('POST', '/reset');
    expect(reset.status).toBe(200);
    expect(nsfStats()).toMatchObject({ requests: 0, created: 0, postsPerKey: {} });
    expect((await get('/GRANT00000001')).status).toBe(404);
    const again = await submit(grant);
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ tracking_number: 'GRANT00000001' });
    const stats = (await (await control('GET', '/stats')).json()) as {
      hooks: object;
      funders: object;
    };
    expect(stats.hooks).toEqual({});
    expect(Object.keys(stats.funders)).toEqual(['NSF', 'BCF']);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.0.1.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.7', false],
    ['::ffff:10.0.0.7', false],
    [undefined, false],
  ])('%s -> %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});
