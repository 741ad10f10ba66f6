// Guarantee: a funder's limiter recovers when its state in Redis is gone. A
// process's client is dropped from the shared state when another process's
// tick finds it unseen for longer than Bottleneck's clientTimeout (a heartbeat
// delayed by a busy event loop), and every key goes when the limiter is idle
// for its state TTL. Against the stack's Redis (7.x, which prefixes a Lua
// script's error reply with "ERR "), the next call must still run within its
// wait, not be throttled for ever with ERR UNKNOWN_CLIENT or
// ERR SETTINGS_KEY_NOT_FOUND.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { FunderLimiter } from '@grantstream/funders';
import { uniqueName } from '@grantstream/testing';

const config = loadGrantstreamConfig({});
/** A call waits this long for its slot; a healthy limiter starts it within milliseconds. */
const MAX_WAIT_MS = 5000;
const ID_PREFIX = uniqueName('grantstream.test.limiter-recovery');
const FUNDER = 'NSF';
/** Bottleneck's key prefix for the limiter's id. */
const KEYS = `b_${ID_PREFIX}.${FUNDER}_`;

describe('funder limiter whose Redis state is gone', () => {
  const errors: string[] = [];
  let redis: Redis;
  let limiter: FunderLimiter;

  beforeAll(async () => {
    redis = new Redis({ host: config.redis.host, port: config.redis.port });
    limiter = new FunderLimiter({
      funderId: FUNDER,
      ratePerSecond: 20,
      maxConcurrent: 4,
      redis: config.redis,
      idPrefix: ID_PREFIX,
      onError: (e) => errors.push(e.message),
    });
    await limiter.ready();
    const first = await limiter.schedule(() => Promise.resolve('ok'), { maxWaitMs: MAX_WAIT_MS });
    expect(first.kind).toBe('ran');
  });

  afterAll(async () => {
    await limiter?.close();
    const keys = await redis.keys(`${KEYS}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('runs the next call after another process dropped this client as unresponsive', async () => {
    // What process_tick does to a client unseen for clientTimeout with nothing running.
    const clients = await redis.zrange(`${KEYS}client_last_seen`, 0, -1);
    expect(clients).toHaveLength(1);
    await redis.zrem(`${KEYS}client_last_seen`, ...clients);
    await redis.zrem(`${KEYS}client_running`, ...clients);
    await redis.zrem(`${KEYS}client_last_registered`, ...clients);
    await redis.hdel(`${KEYS}client_num_queued`, ...clients);

    const next = await limiter.schedule(() => Promise.resolve('again'), { maxWaitMs: MAX_WAIT_MS });
    expect(next, errors.join('\n')).toMatchObject({ kind: 'ran', value: 'again' });
    expect(errors.filter((e) => /UNKNOWN_CLIENT/.test(e))).toEqual([]);
  });

  it('runs the next call after every key of the limiter expired', async () => {
    const keys = await redis.keys(`${KEYS}*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);

    const next = await limiter.schedule(() => Promise.resolve('after expiry'), {
      maxWaitMs: MAX_WAIT_MS,
    });
    expect(next, errors.join('\n')).toMatchObject({ kind: 'ran', value: 'after expiry' });
    expect(errors.filter((e) => /SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT/.test(e))).toEqual([]);
    // The recovered state binds again: the settings are back in Redis.
    expect(await redis.exists(`${KEYS}settings`)).toBe(1);
  });
});
