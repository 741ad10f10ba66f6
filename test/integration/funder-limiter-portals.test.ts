// Guarantee: a funder's rate limit is shared by the processes calling one
// portal, and only by them. Two deployments on the same Redis that call
// different portals under the same funder id (another environment, a test's
// simulator beside the main job's) each get their portal's whole rate: a
// backlog of callers at one portal never starves the other's calls.
import { afterAll, describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { FunderLimiter, limiterIdOf } from '@grantstream/funders';
import { uniqueName } from '@grantstream/testing';

const config = loadGrantstreamConfig({});
const RATE = 20;
/** Limiters (each its own Bottleneck client) keeping the busy portal's backlog. */
const BUSY_CLIENTS = 3;
const BUSY_CALLERS = 60;
/** The quiet portal's calls; at RATE they all start within about one second. */
const QUIET_CALLS = 20;
const QUIET_WAIT_MS = 2000;
const FUNDER = 'NSF';
const ID_PREFIX = uniqueName('grantstream.test.limiter-portals');

describe('funder limiters of two portals of one funder', () => {
  const open: FunderLimiter[] = [];
  const make = (portal: string) => {
    const l = new FunderLimiter({
      funderId: FUNDER,
      portal,
      ratePerSecond: RATE,
      maxConcurrent: 10,
      redis: config.redis,
      idPrefix: ID_PREFIX,
      onError: () => undefined,
    });
    open.push(l);
    return l;
  };

  afterAll(async () => {
    await Promise.all(open.map((l) => l.close()));
  });

  it('gives the quiet portal its whole rate while the busy one has a backlog', async () => {
    const busyPortal = 'http://127.0.0.1:18090/funders/NSF';
    const quietPortal = 'http://127.0.0.1:8090/funders/NSF';
    expect(limiterIdOf(FUNDER, busyPortal, ID_PREFIX)).not.toBe(
      limiterIdOf(FUNDER, quietPortal, ID_PREFIX),
    );
    const busy = Array.from({ length: BUSY_CLIENTS }, () => make(busyPortal));
    const quiet = make(quietPortal);
    await Promise.all(open.map((l) => l.ready()));
    const call = () => new Promise<number>((r) => setTimeout(() => r(Date.now()), 20));
    const backlog = busy.flatMap((l) =>
      Array.from({ length: BUSY_CALLERS }, () => l.schedule(call, { maxWaitMs: 10_000 })),
    );
    const results = await Promise.all(
      Array.from({ length: QUIET_CALLS }, () => quiet.schedule(call, { maxWaitMs: QUIET_WAIT_MS })),
    );
    const ran = results.filter((r) => r.kind === 'ran').length;
    expect(ran, `${ran} of ${QUIET_CALLS} quiet calls ran within ${QUIET_WAIT_MS} ms`).toBe(
      QUIET_CALLS,
    );
    await Promise.all(backlog);
  });
});
