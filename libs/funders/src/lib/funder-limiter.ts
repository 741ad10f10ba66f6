import { createHash } from 'node:crypto';
import Bottleneck from 'bottleneck';
import { InfrastructureError } from '@grantstream/errors';
import { BottleneckRedis } from './bottleneck-redis';

/** Where the limiters' shared state lives (the root `redis:` section of the config). */
export interface FunderLimiterRedis {
  host: string;
  port: number;
}

/** What a {@link FunderLimiter} is built from. */
export interface FunderLimiterOptions {
  funderId: string;
  /** Calls per second the portal allows, across every process sharing the limiter. */
  ratePerSecond: number;
  /** Calls in flight to the portal at most, across every process sharing the limiter. */
  maxConcurrent: number;
  /**
   * Added to {@link minTimeOf}(ratePerSecond) between call starts. A start can
   * be late by its process's timer and event-loop delay (a few ms, more on a
   * busy machine); a late start followed by an on-time one in another process
   * is closer to it by that lateness, so at exactly 1000/rate spacing a portal
   * counting calls per sliding second can see rate + 1. A margin of m ms keeps
   * "at most rate calls in any second" while lateness differs by less than
   * m x rate ms, and costs m / minTime of the throughput. Defaults to 0.
   */
  spacingMarginMs?: number;
  redis: FunderLimiterRedis;
  /**
   * The limiter's id is `<idPrefix>.<funderId>` (with the portal's digest when
   * `portal` is given); processes with the same id share one limit. Defaults
   * to `grantstream.funder`.
   */
  idPrefix?: string;
  /**
   * The portal the limit protects (its base URL). Part of the id: the
   * processes calling one portal share its limit, and a process calling
   * another portal for the same funder id (another deployment's, a test's
   * simulator) on the same Redis never takes from it, nor starves it.
   */
  portal?: string;
  /**
   * Receives what goes wrong outside any one call: Redis connection errors
   * (repeated while Redis is down: rate-limit the log), a slot that could not
   * be claimed, a call that held its slot past `jobExpirationMs`. Must not throw.
   */
  onError: (error: Error) => void;
  /**
   * Longest a call may hold its slot. Redis frees the slot after this even if
   * the process holding it died (kill -9), so a crash never leaks concurrency
   * for good. Set it above the portal call's own timeout: a call still
   * running past it keeps running, but no longer counts against
   * `maxConcurrent`. Defaults to 60 000.
   */
  jobExpirationMs?: number;
  /**
   * The limiter's keys in Redis expire after this long without a call, so the
   * state of a funder no process uses any more disappears. Must exceed
   * `jobExpirationMs`. Defaults to 300 000.
   */
  stateTtlMs?: number;
  /** How long {@link FunderLimiter.ready} waits for Redis. Defaults to 10 000. */
  readyTimeoutMs?: number;
}

/** Collaborators of a {@link FunderLimiter}, injected so unit tests need no Redis. */
export interface FunderLimiterDeps {
  /** Builds the Bottleneck limiter from the clustered options; defaults to `new Bottleneck(options)`. */
  createBottleneck?: (options: Bottleneck.ConstructorOptions) => Bottleneck;
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
}

/** Options of one {@link FunderLimiter.schedule} call. */
export interface ScheduleOptions {
  /** Longest the call may wait for its turn before the caller gets `throttled`. */
  maxWaitMs: number;
  /** Aborting rejects the call with the signal's reason (pass the same signal to the call itself). */
  signal?: AbortSignal;
}

/** The call ran: its value and how long it waited for its turn. */
export interface RanResult<T> {
  kind: 'ran';
  value: T;
  waitedMs: number;
}

/** The call did not start within `maxWaitMs` and never will: the caller retries later. */
export interface ThrottledResult {
  kind: 'throttled';
  waitedMs: number;
}

/** Outcome of {@link FunderLimiter.schedule}. */
export type ScheduleResult<T> = RanResult<T> | ThrottledResult;

/** What a {@link FunderLimiter} holds locally, for metrics. */
export interface FunderLimiterCounts {
  /** Calls waiting for their turn in this process. */
  queued: number;
  /** Calls of this process in flight. */
  running: number;
}

const DEFAULT_ID_PREFIX = 'grantstream.funder';
const DEFAULT_JOB_EXPIRATION_MS = 60_000;
const DEFAULT_STATE_TTL_MS = 300_000;
const DEFAULT_READY_TIMEOUT_MS = 10_000;
/** A slot claim Bottleneck refused (Redis unreachable) is retried after this long if calls still wait. */
const CLAIM_RETRY_MS = 1_000;
/** How long close() lets Bottleneck finish with Redis before it drops the connection. */
const CLOSE_GRACE_MS = 2_000;

/** True if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bottleneck's `minTime` for a rate: the whole milliseconds between two call
 * starts, rounded up so the rate is never exceeded (1000 / 3 gives 334, not
 * 333). Rates above 1000/s all give 1 ms: Bottleneck's clock is in milliseconds.
 */
export function minTimeOf(ratePerSecond: number): number {
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new RangeError(`ratePerSecond must be finite and positive, got ${ratePerSecond}`);
  }
  return Math.ceil(1000 / ratePerSecond);
}

/**
 * The Bottleneck id of a funder's limit: `<idPrefix>.<funderId>`, followed by
 * a digest of `portal` when given, so only processes calling the same portal
 * share the limit.
 */
export function limiterIdOf(
  funderId: string,
  portal: string | undefined,
  idPrefix: string = DEFAULT_ID_PREFIX,
): string {
  const base = `${idPrefix}.${funderId}`;
  if (portal === undefined) return base;
  return `${base}.${createHash('sha256').update(portal).digest('hex').slice(0, 16)}`;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

interface Waiter {
  /** `taken`: out of the queue, about to start or fail. */
  state: 'waiting' | 'taken' | 'running' | 'settled';
  /** Runs the call and settles the caller; resolves when the call has settled, never rejects. */
  start(): Promise<void>;
  /** Settles a caller that has not started with `error` (used by close). */
  fail(error: Error): void;
}

interface Claim {
  id: string;
  /** Resolves once the claim has started or failed. */
  settled: Promise<void>;
}

/**
 * One funder's rate and concurrency limit, held in Redis through Bottleneck's
 * clustering so it binds every process using the same limiter id: three
 * replicas of the submission stage and the status poller together make at
 * most `ratePerSecond` calls per second and `maxConcurrent` at once.
 *
 * Bottleneck cannot take back a job it has queued, and a job it starts late
 * still spends a `minTime` interval of the shared schedule. So callers do not
 * queue in Bottleneck: they wait here, and Bottleneck holds one slot claim per
 * process at a time. When a claim starts, the oldest caller still waiting
 * runs in it and the next claim is made. A caller whose `maxWaitMs` passes
 * leaves the local queue and gets `throttled` at once, without costing a
 * slot, so a slow funder never holds a Kafka partition and a backlog of
 * throttled callers never eats the rate of the callers after it. The one
 * cost: when a claim starts and every caller it was made for has left, it
 * returns at once and its slot (one `minTime` interval) goes unused — at most
 * one slot per process each time its queue empties that way.
 *
 * Redis reserves the slots exactly minTime apart, but a call starts when its
 * process gets to it: a stalled process (GC, a busy machine) starts late and
 * the next process's call follows it closely. A portal with any burst
 * allowance absorbs that; one counting strictly per sliding second needs
 * `spacingMarginMs`. The slots are only as exact as the clocks agree:
 * Bottleneck's Redis scripts take the time from the calling process.
 */
export class FunderLimiter {
  /** The funder whose portal this limiter protects. */
  readonly funderId: string;
  /** The Bottleneck limiter id, shared by every process that shares the limit. */
  readonly id: string;
  /** Milliseconds between call starts: {@link minTimeOf} the rate plus the spacing margin. */
  readonly minTime: number;
  /** Calls in flight at most, across every process sharing the limit. */
  readonly maxConcurrent: number;
  private readonly limiter: Bottleneck;
  private readonly onError: (error: Error) => void;
  private readonly now: () => number;
  private readonly jobExpirationMs: number;
  private readonly readyTimeoutMs: number;
  private readonly redisAddress: string;
  /** FIFO of callers; entries that left stay until they reach the head. */
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;
  private running = 0;
  private claim: Claim | null = null;
  private claimSeq = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | null = null;
  /** Resolved when no call of this process is in flight. */
  private onIdle: (() => void)[] = [];

  constructor(options: FunderLimiterOptions, deps: FunderLimiterDeps = {}) {
    this.funderId = options.funderId;
    this.id = limiterIdOf(options.funderId, options.portal, options.idPrefix);
    const margin = options.spacingMarginMs ?? 0;
    if (!Number.isSafeInteger(margin) || margin < 0) {
      throw new RangeError(`spacingMarginMs must be a non-negative integer, got ${margin}`);
    }
    this.minTime = minTimeOf(options.ratePerSecond) + margin;
    this.maxConcurrent = positiveInt('maxConcurrent', options.maxConcurrent);
    this.jobExpirationMs = positiveInt(
      'jobExpirationMs',
      options.jobExpirationMs ?? DEFAULT_JOB_EXPIRATION_MS,
    );
    const stateTtlMs = positiveInt('stateTtlMs', options.stateTtlMs ?? DEFAULT_STATE_TTL_MS);
    if (stateTtlMs <= this.jobExpirationMs) {
      // Keys that expired under a running call would reset the count of calls in flight.
      throw new RangeError(
        `stateTtlMs (${stateTtlMs}) must exceed jobExpirationMs (${this.jobExpirationMs})`,
      );
    }
    this.readyTimeoutMs = positiveInt(
      'readyTimeoutMs',
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
    this.onError = options.onError;
    this.now = deps.now ?? Date.now;
    this.redisAddress = `${options.redis.host}:${options.redis.port}`;
    const create = deps.createBottleneck ?? ((o) => new Bottleneck(o));
    this.limiter = create({
      id: this.id,
      datastore: 'ioredis',
      // Other processes share this state: never wipe it on start.
      clearDatastore: false,
      clientOptions: { host: options.redis.host, port: options.redis.port },
      // Lets Bottleneck recover when its state in Redis is gone (see BottleneckRedis).
      Redis: BottleneckRedis,
      timeout: stateTtlMs,
      minTime: this.minTime,
      maxConcurrent: this.maxConcurrent,
    });
    this.limiter.on('error', (error: unknown) => this.report('Redis error', error));
  }

  /**
   * Resolves once Redis answers and this process's rate and concurrency are
   * the shared settings: the newest process wins, so a changed configuration
   * takes effect as replicas restart instead of when the keys expire.
   * @throws InfrastructureError when Redis does not answer within `readyTimeoutMs`.
   */
  async ready(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new InfrastructureError(
              `Redis at ${this.redisAddress} did not answer within ${this.readyTimeoutMs} ms (funder limiter ${this.id})`,
            ),
          ),
        this.readyTimeoutMs,
      );
    });
    try {
      await Promise.race([this.limiter.ready(), timeout]);
      // Typed as returning the limiter, but it returns a promise of it.
      await (this.limiter.updateSettings({
        minTime: this.minTime,
        maxConcurrent: this.maxConcurrent,
      }) as unknown as Promise<Bottleneck>);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `fn` when the funder's shared limit lets it start, or answers
   * `throttled` as soon as `maxWaitMs` has passed without a start — then `fn`
   * is never called. An error of `fn` rejects the returned promise. Aborting
   * `signal` rejects at once with its reason; a call already running keeps
   * its slot until it settles.
   * @throws InfrastructureError after {@link close}.
   */
  schedule<T>(fn: () => Promise<T>, opts: ScheduleOptions): Promise<ScheduleResult<T>> {
    const { maxWaitMs, signal } = opts;
    if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) {
      return Promise.reject(
        new RangeError(`maxWaitMs must be finite and non-negative, got ${maxWaitMs}`),
      );
    }
    if (this.closing) return Promise.reject(this.closedError());
    // The reason is the caller's own (an Error unless they chose otherwise): passed on as it is.
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const enqueuedAt = this.now();
    return new Promise<ScheduleResult<T>>((resolve, reject) => {
      const waiter: Waiter = {
        state: 'waiting',
        start: async () => {
          if (waiter.state !== 'taken') return;
          waiter.state = 'running';
          clearTimeout(timer);
          const waitedMs = this.now() - enqueuedAt;
          this.running += 1;
          try {
            const value = await fn();
            settle(() => resolve({ kind: 'ran', value, waitedMs }));
          } catch (err) {
            // The call's own error, passed on as it is.
            const error = err as Error;
            settle(() => reject(error));
          } finally {
            this.running -= 1;
            if (this.running === 0) for (const idle of this.onIdle.splice(0)) idle();
          }
        },
        fail: (error) => settle(() => reject(error)),
      };
      // Every way out passes here once: the counters and listeners are released exactly once.
      const settle = (then: () => void) => {
        if (waiter.state === 'settled') return;
        if (waiter.state === 'waiting') this.waiting -= 1;
        waiter.state = 'settled';
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        then();
      };
      const onAbort = () => settle(() => reject(signal?.reason as Error));
      const timer = setTimeout(() => {
        if (waiter.state === 'waiting') {
          settle(() => resolve({ kind: 'throttled', waitedMs: this.now() - enqueuedAt }));
        }
      }, maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.waiting += 1;
      this.claimIfNeeded();
    });
  }

  /** Calls of this process waiting and in flight (not the cluster's). */
  counts(): FunderLimiterCounts {
    return { queued: this.waiting, running: this.running };
  }

  /**
   * Rejects every waiting caller with an InfrastructureError, waits for the
   * calls in flight to settle (they have their own timeouts, as portal calls
   * do), and disconnects from Redis. A slot claim that Redis has already
   * granted is let start (it finds nobody and frees its slot) rather than
   * dropped, which would hold the slot until it expired. With Redis
   * unreachable the connection is dropped after a short grace instead of
   * waiting for a reconnection.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    const error = this.closedError();
    for (let w = this.nextWaiting(); w; w = this.nextWaiting()) w.fail(error);
    const claim = this.claim;
    // Bottleneck's Status enum exists only in its typings; compare the string it returns.
    if (claim && String(this.limiter.jobStatus(claim.id)) === 'RUNNING') await claim.settled;
    if (this.running > 0) await new Promise<void>((r) => this.onIdle.push(r));
    // stop() returns once every slot is freed in Redis; a claim still being
    // submitted to an unreachable Redis would hold it forever.
    const stop = this.limiter.stop({ dropWaitingJobs: true });
    stop.catch((err: unknown) => this.report('could not stop', err));
    const graceful =
      (await settlesWithin(stop, CLOSE_GRACE_MS)) &&
      (await settlesWithin(this.limiter.disconnect(true), CLOSE_GRACE_MS));
    if (!graceful) await this.limiter.disconnect(false);
  }

  private closedError(): InfrastructureError {
    return new InfrastructureError(`funder limiter ${this.id} is closed`);
  }

  /** Takes the oldest caller still waiting out of the queue. */
  private nextWaiting(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head];
      this.head += 1;
      if (w?.state === 'waiting') {
        w.state = 'taken';
        this.waiting -= 1;
        this.compact();
        return w;
      }
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** One claim per process at a time, and only while somebody waits. */
  private claimIfNeeded(): void {
    if (this.closing || this.claim || this.waiting === 0) return;
    const id = `${this.id}#${++this.claimSeq}`;
    let started = false;
    let markSettled!: () => void;
    const claim: Claim = { id, settled: new Promise<void>((r) => (markSettled = r)) };
    this.claim = claim;
    const release = () => {
      if (this.claim === claim) this.claim = null;
      markSettled();
    };
    this.limiter
      .schedule({ id, expiration: this.jobExpirationMs }, async () => {
        started = true;
        release();
        const waiter = this.nextWaiting();
        this.claimIfNeeded();
        await waiter?.start();
      })
      .catch((err: unknown) => {
        release();
        if (this.closing) return;
        this.report(
          started
            ? `a call held its slot longer than jobExpirationMs (${this.jobExpirationMs} ms); it no longer counts against maxConcurrent`
            : 'could not claim a slot',
          err,
        );
        if (!started) {
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.claimIfNeeded(), CLAIM_RETRY_MS);
          this.retryTimer.unref();
        }
      });
  }

  private report(what: string, cause: unknown): void {
    const detail = cause instanceof Error ? cause.message : String(cause);
    this.onError(
      new InfrastructureError(`funder limiter ${this.id}: ${what}: ${detail}`, { cause }),
    );
  }
}
